"""Golden fixtures for the Anthropic Messages translator (sources: README.md beside this file)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.golden.codec import read_json, to_json
from tests.golden.golden_pairs import Pair, check_json, pairs, params
from tests.golden.provider_cases import case_request, mapped_error, source_request, stream_events, wire_json
from tollhouse.model.chat import ChatRequest
from tollhouse.providers.anthropic.errors import map_error
from tollhouse.providers.anthropic.request import build_request, json_tool_name
from tollhouse.providers.anthropic.response import decode_message
from tollhouse.providers.anthropic.stream import StreamDecoder

ROOT = Path(__file__).parent


@pytest.mark.parametrize("pair", params(pairs(ROOT, "canonical_request", ".json", "wire_request", ".json")))
def test_request(pair: Pair) -> None:
    request = source_request(pair)
    check_json(pair, wire_json(build_request(request, request.model, request.stream)))


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_response", ".json", "canonical_response", ".json")))
def test_response(pair: Pair) -> None:
    json_tool = json_tool_name(case_request(pair).response_format)
    check_json(pair, to_json(decode_message(read_json(pair.source), 0, json_tool)))


def _events(data: bytes, request: ChatRequest, step: int | None) -> list[object]:
    json_tool = json_tool_name(request.response_format)
    return stream_events(lambda: StreamDecoder("upstream", 0, json_tool), data, request, step)


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_stream", ".sse", "canonical_events", ".json")))
def test_stream(pair: Pair) -> None:
    data, request = pair.source.read_bytes(), case_request(pair)
    whole = _events(data, request, None)
    # Split anywhere (mid-line, mid-UTF-8) or with CRLF line ends, the events are the same.
    assert _events(data, request, 7) == whole
    assert _events(data.replace(b"\n", b"\r\n"), request, 11) == whole
    check_json(pair, whole)


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_error", ".json", "canonical_error", ".json")))
def test_error(pair: Pair) -> None:
    check_json(pair, mapped_error(pair, map_error))
