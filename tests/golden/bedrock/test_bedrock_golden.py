"""Golden fixtures for the Bedrock Converse translator (sources: README.md beside this file).

Stream transcripts are JSON lists of events, written into AWS event-stream frames by
``tests/fakes/aws_eventstream.py`` (our writer) and read back by the gateway's decoder
(botocore's parser), so the binary framing is exercised both ways.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.fakes.aws_eventstream import transcript
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
from tollhouse.providers.bedrock.errors import map_error
from tollhouse.providers.bedrock.request import build_request, json_tool_name
from tollhouse.providers.bedrock.response import decode_converse
from tollhouse.providers.bedrock.stream import StreamDecoder

ROOT = Path(__file__).parent
MODEL = "anthropic.claude-sonnet-4-5-20250929-v1:0"


@pytest.mark.parametrize("pair", params(pairs(ROOT, "canonical_request", ".json", "wire_request", ".json")))
def test_request(pair: Pair) -> None:
    actual: Any
    try:
        actual = wire_json(build_request(source_request(pair)))
    except TollhouseError as error:
        actual = {"error": error_json(error)}
    check_json(pair, actual)


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_response", ".json", "canonical_response", ".json")))
def test_response(pair: Pair) -> None:
    json_tool = json_tool_name(case_request(pair).response_format)
    check_json(pair, to_json(decode_converse(read_json(pair.source), MODEL, 0, json_tool)))


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_stream", ".json", "canonical_events", ".json")))
def test_stream(pair: Pair) -> None:
    data, request = transcript(read_json(pair.source)), case_request(pair)
    json_tool = json_tool_name(request.response_format)

    def make() -> StreamDecoder:
        return StreamDecoder("upstream", MODEL, 0, json_tool)

    whole = stream_events(make, data, request)
    assert stream_events(make, data, request, 5) == whole  # frames split across reads
    check_json(pair, whole)


@pytest.mark.parametrize("pair", params(pairs(ROOT, "wire_error", ".json", "canonical_error", ".json")))
def test_error(pair: Pair) -> None:
    check_json(pair, mapped_error(pair, map_error))
