"""Embeddings on Bedrock via ``InvokeModel``: Amazon Titan and Cohere Embed bodies.

Titan (https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-titan-embed-text.html)
embeds one text per call: ``{"inputText", "dimensions", "normalize"}`` → ``{"embedding",
"inputTextTokenCount"}``. Cohere Embed on Bedrock
(https://docs.aws.amazon.com/bedrock/latest/userguide/model-parameters-embed.html) takes a
batch: ``{"texts", "input_type", "embedding_types"}`` → ``{"embeddings": {"float": [...]}}``
(older models: a bare list); it reports no token count, so that is estimated.
"""

from __future__ import annotations

from typing import Any, NotRequired, TypedDict

from tollhouse.errors import InvalidRequest, UpstreamUnavailable
from tollhouse.model.embeddings import EmbeddingRequest
from tollhouse.providers.usage_count import estimate_tokens


class TitanEmbedRequest(TypedDict):
    inputText: str
    dimensions: NotRequired[int]
    normalize: NotRequired[bool]


class CohereEmbedRequest(TypedDict):
    texts: list[str]
    input_type: str
    embedding_types: list[str]
    truncate: NotRequired[str]


def is_cohere(model: str) -> bool:
    return "cohere." in model


def texts(request: EmbeddingRequest) -> list[str]:
    if not all(isinstance(item, str) for item in request.inputs):
        raise InvalidRequest("Bedrock embeddings take text, not token arrays", param="input")
    return [str(item) for item in request.inputs]


def titan_body(text: str, request: EmbeddingRequest) -> TitanEmbedRequest:
    body: TitanEmbedRequest = {"inputText": text}
    if request.dimensions is not None:
        body["dimensions"] = request.dimensions
        body["normalize"] = True
    return body


def decode_titan(body: dict[str, Any], provider: str) -> tuple[tuple[float, ...], int]:
    vector = body.get("embedding")
    if not isinstance(vector, list):
        raise UpstreamUnavailable(f"provider {provider} returned no embedding")
    tokens = body.get("inputTextTokenCount")
    return tuple(float(v) for v in vector), tokens if isinstance(tokens, int) else 0


def cohere_body(request: EmbeddingRequest) -> CohereEmbedRequest:
    input_type = request.extra.get("input_type")
    return {
        "texts": texts(request),
        "input_type": input_type if isinstance(input_type, str) else "search_document",
        "embedding_types": ["float"],
    }


def decode_cohere(
    body: dict[str, Any], request: EmbeddingRequest, provider: str
) -> tuple[tuple[tuple[float, ...], ...], int]:
    raw = body.get("embeddings")
    vectors = raw.get("float") if isinstance(raw, dict) else raw
    if not isinstance(vectors, list) or len(vectors) != len(request.inputs):
        raise UpstreamUnavailable(f"provider {provider} returned embeddings that do not match the inputs")
    tokens = sum(estimate_tokens(t) for t in texts(request))
    return tuple(tuple(float(v) for v in vector) for vector in vectors), tokens
