"""Golden fixtures for the Gemini translator (sources: README.md beside this file)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.golden.codec import read_json, to_json
from tests.golden.golden_pairs import Pair, check_json, pairs, params
from tests.golden.provider_cases import (
    case_request,
    error_json,
    mapped_error,
    source_request,
    stream_events,
    wire_json,
)
from tollhouse.errors import TollhouseError
from tollhouse.providers.gemini.errors import map_error
from tollhouse.providers.gemini.request import build_request
from tollhouse.providers.gemini.response import decode_response
from tollhouse.providers.gemini.stream import StreamDecoder

ROOT = Path(__file__).parent
MODEL = "gemini-2.5-flash"


@pytest.mark.parametrize("pair", params(pairs(ROOT, "canonical_request", ".json", "wire_request", ".json")))
def test_request(pair: Pair) -> None:
    check_json(pair, wire_json(build_request(source_request(pair))))


def _decoded(pair: Pair) -> Any:
    try:
        return to_json(decode_response(read_json(pair.source), MODEL, 0, "upstream"))
    except TollhouseError as error:
        return {"error": error_json(error)}


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_response", ".json", "canonical_response", ".json")))
def test_response(pair: Pair) -> None:
    check_json(pair, _decoded(pair))


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_stream", ".sse", "canonical_events", ".json")))
def test_stream(pair: Pair) -> None:
    data, request = pair.source.read_bytes(), case_request(pair)
    whole = stream_events(lambda: StreamDecoder("upstream", MODEL, 0), data, request)
    assert stream_events(lambda: StreamDecoder("upstream", MODEL, 0), data, request, 7) == whole
    check_json(pair, whole)


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_error", ".json", "canonical_error", ".json")))
def test_error(pair: Pair) -> None:
    check_json(pair, mapped_error(pair, map_error))
