"""Cohere v2 embed (https://docs.cohere.com/reference/embed): texts in, float vectors out."""

from __future__ import annotations

from typing import Any

from tollhouse.errors import InvalidRequest, UpstreamUnavailable
from tollhouse.model.embeddings import EmbeddingRequest, EmbeddingResponse
from tollhouse.providers.cohere.wire import EmbedRequest


def build_embed(request: EmbeddingRequest, model: str) -> EmbedRequest:
    """``input_type`` (search_document, search_query, classification, clustering) comes from
    the caller's extra fields; documents are the default."""
    if not all(isinstance(item, str) for item in request.inputs):
        raise InvalidRequest("Cohere embeddings take text, not token arrays", param="input")
    input_type = request.extra.get("input_type")
    body: EmbedRequest = {
        "model": model,
        "texts": [str(t) for t in request.inputs],
        "input_type": input_type if isinstance(input_type, str) else "search_document",
        "embedding_types": ["float"],
    }
    if request.dimensions is not None:
        body["output_dimension"] = request.dimensions
    return body


def decode_embed(
    body: dict[str, Any], request: EmbeddingRequest, model: str, provider: str
) -> EmbeddingResponse:
    embeddings = body.get("embeddings")
    vectors = embeddings.get("float") if isinstance(embeddings, dict) else None
    if not isinstance(vectors, list) or len(vectors) != len(request.inputs):
        raise UpstreamUnavailable(f"provider {provider} returned embeddings that do not match the inputs")
    billed = ((body.get("meta") or {}).get("billed_units") or {}).get("input_tokens")
    return EmbeddingResponse(
        model=model,
        vectors=tuple(tuple(float(v) for v in vector) for vector in vectors),
        prompt_tokens=int(billed) if isinstance(billed, int | float) else 0,
    )
