"""Mistral through the OpenAI-compatible catalog row: golden fixtures proving the row covers
Mistral's differences (see README.md beside this file for the list and the sources)."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.golden.codec import read_json, to_json
from tests.golden.golden_pairs import Pair, check_json, pairs, params
from tests.golden.provider_cases import PLAIN, error_json, source_request, wire_json
from tollhouse.providers.openai_compatible.catalog import CATALOG
from tollhouse.providers.openai_compatible.errors import map_error
from tollhouse.providers.openai_compatible.request import passthrough_body, translated_request
from tollhouse.providers.openai_compatible.stream import StreamDecoder, estimate_prompt_tokens

ROOT = Path(__file__).parent
ROW = CATALOG["mistral"]
MODEL = "mistral-small-latest"


@pytest.mark.parametrize(
    "pair", params(pairs(ROOT, "openai_request", ".json", "wire_request_passthrough", ".json"))
)
def test_passthrough(pair: Pair) -> None:
    """An OpenAI caller's body, as the gateway forwards it to Mistral."""
    check_json(pair, orjson.loads(passthrough_body(read_json(pair.source), MODEL, ROW)))


@pytest.mark.parametrize("pair", params(pairs(ROOT, "canonical_request", ".json", "wire_request", ".json")))
def test_translated(pair: Pair) -> None:
    """A caller of another dialect (e.g. Anthropic's), translated for Mistral."""
    request = source_request(pair)
    check_json(pair, wire_json(translated_request(request, MODEL, ROW, stream=request.stream)))


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_stream", ".sse", "canonical_events", ".json")))
def test_stream_usage_in_last_chunk(pair: Pair) -> None:
    decoder = StreamDecoder("upstream", estimate_prompt_tokens(PLAIN))
    events = [*decoder.feed(pair.source.read_bytes()), *decoder.finish()]
    check_json(pair, to_json(events))


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_error", ".json", "canonical_error", ".json")))
def test_error(pair: Pair) -> None:
    """Mistral's error envelope (``{"object": "error", "message", ...}``) keeps its message."""
    raw = read_json(pair.source)
    error = map_error(raw["status"], orjson.dumps(raw["body"]), "upstream", raw.get("retry_after"))
    check_json(pair, error_json(error))
