"""Embeddings on Gemini (``batchEmbedContents``) and Vertex AI (``predict``).

Gemini: https://ai.google.dev/api/embeddings — one ``EmbedContentRequest`` per input; no token
counts come back, so they are estimated. Vertex AI text embeddings:
https://cloud.google.com/vertex-ai/generative-ai/docs/model-reference/text-embeddings-api —
``instances`` in, ``predictions[].embeddings.{values, statistics.token_count}`` out.
"""

from __future__ import annotations

from typing import Any, TypedDict

from tollhouse.errors import InvalidRequest, UpstreamUnavailable
from tollhouse.model.embeddings import EmbeddingRequest, EmbeddingResponse
from tollhouse.providers.gemini.wire import BatchEmbedContentsRequest, EmbedContentRequest
from tollhouse.providers.usage_count import estimate_tokens


class VertexInstance(TypedDict):
    content: str


class VertexParameters(TypedDict, total=False):
    outputDimensionality: int


class VertexPredictRequest(TypedDict):
    instances: list[VertexInstance]
    parameters: VertexParameters


def _texts(request: EmbeddingRequest) -> list[str]:
    if not all(isinstance(item, str) for item in request.inputs):
        raise InvalidRequest("Gemini embeddings take text, not token arrays", param="input")
    return [str(item) for item in request.inputs]


def build_batch(request: EmbeddingRequest, model: str) -> BatchEmbedContentsRequest:
    requests: list[EmbedContentRequest] = []
    for text in _texts(request):
        item: EmbedContentRequest = {"model": f"models/{model}", "content": {"parts": [{"text": text}]}}
        if request.dimensions is not None:
            item["outputDimensionality"] = request.dimensions
        requests.append(item)
    return {"requests": requests}


def _vector(raw: Any, provider: str) -> tuple[float, ...]:
    values = raw.get("values") if isinstance(raw, dict) else None
    if not isinstance(values, list):
        raise UpstreamUnavailable(f"provider {provider} returned an embedding without values")
    return tuple(float(v) for v in values)


def decode_batch(
    body: dict[str, Any], request: EmbeddingRequest, model: str, provider: str
) -> EmbeddingResponse:
    vectors = tuple(_vector(e, provider) for e in body.get("embeddings") or [])
    if len(vectors) != len(request.inputs):
        raise UpstreamUnavailable(
            f"provider {provider} returned {len(vectors)} embeddings for {len(request.inputs)} inputs"
        )
    tokens = sum(estimate_tokens(t) for t in _texts(request))
    return EmbeddingResponse(model=model, vectors=vectors, prompt_tokens=tokens)


def build_predict(request: EmbeddingRequest) -> VertexPredictRequest:
    parameters: VertexParameters = {}
    if request.dimensions is not None:
        parameters["outputDimensionality"] = request.dimensions
    return {"instances": [{"content": t} for t in _texts(request)], "parameters": parameters}


def decode_predict(
    body: dict[str, Any], request: EmbeddingRequest, model: str, provider: str
) -> EmbeddingResponse:
    vectors = []
    tokens = 0
    for prediction in body.get("predictions") or []:
        embedding = prediction.get("embeddings") if isinstance(prediction, dict) else None
        vectors.append(_vector(embedding, provider))
        stats = embedding.get("statistics") if isinstance(embedding, dict) else None
        count = stats.get("token_count") if isinstance(stats, dict) else None
        tokens += int(count) if isinstance(count, int | float) else 0
    if len(vectors) != len(request.inputs):
        raise UpstreamUnavailable(
            f"provider {provider} returned {len(vectors)} embeddings for {len(request.inputs)} inputs"
        )
    return EmbeddingResponse(model=model, vectors=tuple(vectors), prompt_tokens=tokens)
