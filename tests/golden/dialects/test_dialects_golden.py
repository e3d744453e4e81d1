"""Golden fixtures for the client dialects: wire → canonical requests, canonical → wire answers.

For each dialect: ``wire_request`` decodes to ``canonical_request``; ``canonical_response``
encodes to ``wire_response``; ``canonical_events`` stream-encode to ``wire_stream.sse``;
``canonical_error`` (a gateway error class and message) renders as ``wire_error``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import orjson
import pytest

from tests.golden.codec import from_json, read_json, to_json
from tests.golden.golden_pairs import Pair, check_json, check_text, pairs
from tollhouse import errors
from tollhouse.dialects.anthropic.decode import decode_messages
from tollhouse.dialects.anthropic.encode import encode_message
from tollhouse.dialects.anthropic.errors import error_json as anthropic_error
from tollhouse.dialects.anthropic.stream import MessageStreamEncoder
from tollhouse.dialects.anthropic.validate import check_messages
from tollhouse.dialects.openai_responses.decode import decode_responses
from tollhouse.dialects.openai_responses.encode import encode_response
from tollhouse.dialects.openai_responses.stream import ResponseStreamEncoder
from tollhouse.dialects.openai_responses.validate import check_responses
from tollhouse.model.chat import ChatResponse
from tollhouse.model.stream import StreamEvent

ROOT = Path(__file__).parent


class Encoder(Protocol):
    def encode(self, event: StreamEvent) -> bytes: ...

    def finish(self) -> bytes: ...


@dataclass(frozen=True)
class Dialect:
    check: Callable[[dict[str, Any]], str]
    decode: Callable[[dict[str, Any]], Any]
    encode: Callable[[ChatResponse, dict[str, Any]], dict[str, Any]]
    stream: Callable[[str, dict[str, Any]], Encoder]
    error: Callable[[errors.TollhouseError], Any]


def _openai_error(error: errors.TollhouseError) -> dict[str, Any]:
    return {"error": {"message": error.message, "type": error.type, "param": error.param, "code": error.code}}


DIALECTS = {
    "anthropic": Dialect(
        check_messages,
        decode_messages,
        lambda response, _request: encode_message(response),
        lambda model, _request: MessageStreamEncoder(model),
        anthropic_error,
    ),
    "openai_responses": Dialect(
        check_responses, decode_responses, encode_response, ResponseStreamEncoder, _openai_error
    ),
}


def _all(input_stem: str, input_ext: str, expected_stem: str, expected_ext: str) -> list[Any]:
    found = []
    for name in DIALECTS:
        for pair in pairs(ROOT / name, input_stem, input_ext, expected_stem, expected_ext):
            found.append(pytest.param(name, pair, id=f"{name}-{pair.id}"))
    return found


def _request_for(pair: Pair) -> dict[str, Any]:
    """The case's caller body (the Responses object echoes its settings), else an empty one."""
    path = pair.source.parent / "wire_request.json"
    return read_json(path) if path.exists() else {}


@pytest.mark.parametrize(("dialect", "pair"), _all("wire_request", ".json", "canonical_request", ".json"))
def test_request(dialect: str, pair: Pair) -> None:
    body = read_json(pair.source)
    d = DIALECTS[dialect]
    assert d.check(body) == body["model"]  # every fixture is a valid request
    check_json(pair, to_json(d.decode(body)))


@pytest.mark.parametrize(("dialect", "pair"), _all("canonical_response", ".json", "wire_response", ".json"))
def test_response(dialect: str, pair: Pair) -> None:
    response = from_json(read_json(pair.source))
    check_json(pair, DIALECTS[dialect].encode(response, _request_for(pair)))


@pytest.mark.parametrize(("dialect", "pair"), _all("canonical_events", ".json", "wire_stream", ".sse"))
def test_stream(dialect: str, pair: Pair) -> None:
    events = from_json(read_json(pair.source))
    encoder = DIALECTS[dialect].stream("alias-model", _request_for(pair))
    data = b"".join(encoder.encode(e) for e in events) + encoder.finish()
    check_text(pair, data.decode())


@pytest.mark.parametrize(("dialect", "pair"), _all("canonical_error", ".json", "wire_error", ".json"))
def test_error(dialect: str, pair: Pair) -> None:
    raw = read_json(pair.source)
    cls = getattr(errors, raw["class"])
    error = cls(raw["message"], status=raw.get("status"), param=raw.get("param"))
    check_json(pair, {"status": error.status, "body": DIALECTS[dialect].error(error)})


def test_fixture_streams_parse_as_sse() -> None:
    """Every expected stream is well-formed: named events whose data's type repeats the name."""
    for path in ROOT.glob("*/*/wire_stream*.sse"):
        for block in path.read_text().strip().split("\n\n"):
            name_line, data_line = block.split("\n")
            assert name_line.startswith("event: ") and data_line.startswith("data: ")
            assert orjson.loads(data_line[6:])["type"] == name_line[7:]


def test_responses_streams_are_consistent() -> None:
    """Sequence numbers count from 0; each added item has a fresh id and the next output index."""
    for path in (ROOT / "openai_responses").glob("*/wire_stream*.sse"):
        events = [orjson.loads(b.split("\n")[1][6:]) for b in path.read_text().strip().split("\n\n")]
        assert [e["sequence_number"] for e in events] == list(range(len(events)))
        added = [e for e in events if e["type"] == "response.output_item.added"]
        assert [e["output_index"] for e in added] == list(range(len(added)))
        assert len({e["item"]["id"] for e in added}) == len(added)
        final = events[-1]["response"]
        assert [i["id"] for i in final["output"]] == [e["item"]["id"] for e in added]
