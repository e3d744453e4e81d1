"""passthrough_body: the caller's body with our model, catalog quirks and include_usage."""

from __future__ import annotations

import copy
from typing import Any

import orjson

from tollhouse.providers.openai_compatible.catalog import CATALOG, GENERIC, CatalogRow
from tollhouse.providers.openai_compatible.request import passthrough_body

CHAT: dict[str, Any] = {"model": "alias", "messages": [{"role": "user", "content": "hi"}]}


def _out(payload: dict[str, Any], row: CatalogRow = GENERIC, model: str = "upstream-model") -> dict[str, Any]:
    before = copy.deepcopy(payload)
    body = orjson.loads(passthrough_body(payload, model, row))
    assert payload == before, "the caller's payload must not be modified"
    return body


def test_model_replaced_and_everything_else_preserved() -> None:
    payload = {**CHAT, "temperature": 0.2, "vendor_knob": {"x": [1, 2]}, "metadata": {"k": "v"}, "seed": 3}
    out = _out(payload)
    assert out == {**payload, "model": "upstream-model"}


def test_non_stream_gets_no_stream_options() -> None:
    assert "stream_options" not in _out({**CHAT, "stream": False})
    assert "stream_options" not in _out(CHAT)


def test_stream_gets_include_usage_injected() -> None:
    out = _out({**CHAT, "stream": True})
    assert out["stream_options"] == {"include_usage": True}


def test_existing_stream_options_are_kept_when_injecting() -> None:
    out = _out({**CHAT, "stream": True, "stream_options": {"include_obfuscation": False}})
    assert out["stream_options"] == {"include_obfuscation": False, "include_usage": True}


def test_caller_include_usage_false_is_overridden_for_metering() -> None:
    out = _out({**CHAT, "stream": True, "stream_options": {"include_usage": False, "x": 1}})
    assert out["stream_options"] == {"include_usage": True, "x": 1}


def test_caller_include_usage_true_is_left_alone() -> None:
    options = {"include_usage": True, "continuous_usage_stats": True}
    assert _out({**CHAT, "stream": True, "stream_options": options})["stream_options"] == options


def test_mistral_renames_seed_and_drops_unsupported_params() -> None:
    payload = {
        **CHAT,
        "stream": True,
        "seed": 42,
        "logprobs": True,
        "top_logprobs": 2,
        "logit_bias": {"1": 1},
        "user": "u",
        "stream_options": {"include_usage": True},
        "temperature": 0.1,
    }
    out = _out(payload, CATALOG["mistral"])
    assert out["random_seed"] == 42
    assert "seed" not in out
    for dropped in ("logprobs", "top_logprobs", "logit_bias", "user", "stream_options"):
        assert dropped not in out
    assert out["temperature"] == 0.1
    assert out["stream"] is True


def test_mistral_stream_gets_no_stream_options() -> None:
    assert "stream_options" not in _out({**CHAT, "stream": True}, CATALOG["mistral"])


def test_groq_drops_logprobs() -> None:
    out = _out({**CHAT, "logprobs": True, "top_logprobs": 3, "seed": 1}, CATALOG["groq"])
    assert "logprobs" not in out
    assert "top_logprobs" not in out
    assert out["seed"] == 1


def test_ollama_drops_n() -> None:
    assert "n" not in _out({**CHAT, "n": 2}, CATALOG["ollama"])


def test_openai_row_forwards_everything() -> None:
    payload = {**CHAT, "logprobs": True, "user": "u", "seed": 1}
    assert _out(payload, CATALOG["openai"]) == {**payload, "model": "upstream-model"}


def test_embeddings_body() -> None:
    out = _out({"model": "alias", "input": ["a"], "dimensions": 8}, model="text-embedding-3-small")
    assert out == {"model": "text-embedding-3-small", "input": ["a"], "dimensions": 8}
