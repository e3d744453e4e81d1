"""Embeddings on the native providers: an OpenAI embeddings body → each provider's wire body,
and each provider's answer → the canonical response (sources: README.md beside this file)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.golden.codec import read_json, to_json
from tests.golden.golden_pairs import Pair, check_json, pairs, params
from tests.golden.provider_cases import wire_json
from tollhouse.dialects.openai.decode import decode_embeddings
from tollhouse.model.embeddings import EmbeddingRequest, EmbeddingResponse
from tollhouse.providers.bedrock import embeddings as bedrock
from tollhouse.providers.cohere.embeddings import build_embed, decode_embed
from tollhouse.providers.gemini.embeddings import build_batch, build_predict, decode_batch, decode_predict

ROOT = Path(__file__).parent


def _titan(body: dict[str, Any], request: EmbeddingRequest, model: str) -> EmbeddingResponse:
    vector, tokens = bedrock.decode_titan(body, "upstream")
    return EmbeddingResponse(model=model, vectors=(vector,), prompt_tokens=tokens)


def _bedrock_cohere(body: dict[str, Any], request: EmbeddingRequest, model: str) -> EmbeddingResponse:
    vectors, tokens = bedrock.decode_cohere(body, request, "upstream")
    return EmbeddingResponse(model=model, vectors=vectors, prompt_tokens=tokens)


# case → (model, build request body, decode answer)
CASES: dict[str, tuple[str, Callable[..., Any], Callable[..., EmbeddingResponse]]] = {
    "gemini": (
        "gemini-embedding-001",
        lambda r, m: build_batch(r, m),
        lambda b, r, m: decode_batch(b, r, m, "upstream"),
    ),
    "vertex": (
        "text-embedding-005",
        lambda r, m: build_predict(r),
        lambda b, r, m: decode_predict(b, r, m, "upstream"),
    ),
    "bedrock_titan": (
        "amazon.titan-embed-text-v2:0",
        lambda r, m: [bedrock.titan_body(t, r) for t in bedrock.texts(r)],
        _titan,
    ),
    "bedrock_cohere": ("cohere.embed-v4:0", lambda r, m: bedrock.cohere_body(r), _bedrock_cohere),
    "cohere": (
        "embed-v4.0",
        lambda r, m: build_embed(r, m),
        lambda b, r, m: decode_embed(b, r, m, "upstream"),
    ),
}


def _request(case: str) -> EmbeddingRequest:
    return decode_embeddings(read_json(ROOT / case / "openai_request.json"))


@pytest.mark.parametrize("pair", params(pairs(ROOT, "openai_request", ".json", "wire_request", ".json")))
def test_request(pair: Pair) -> None:
    model, build, _ = CASES[pair.case]
    check_json(pair, wire_json(build(_request(pair.case), model)))


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_response", ".json", "canonical_response", ".json")))
def test_response(pair: Pair) -> None:
    model, _, decode = CASES[pair.case]
    request = _request(pair.case)
    if pair.case == "bedrock_titan":  # Titan answers one text per call
        request = EmbeddingRequest(
            model=request.model, inputs=request.inputs[:1], dimensions=request.dimensions
        )
    check_json(pair, to_json(decode(read_json(pair.source), request, model)))
