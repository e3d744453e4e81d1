"""What the native providers' golden suites share: a case's request, streams fed in pieces, errors.

Each suite (``<provider>/test_<provider>_golden.py``) binds its translator functions to these;
a provider whose translator has the plain shape (request builder, response decoder, byte-stream
decoder, ``map_error``) describes itself as a ``NativeSuite`` and takes its four tests from
``golden_tests``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, Protocol

import orjson
import pytest

from tests.golden.codec import from_json, read_json, to_json
from tests.golden.golden_pairs import Pair, check_json, pairs, params
from tollhouse.errors import TollhouseError, UpstreamError
from tollhouse.model.chat import ChatRequest, Message
from tollhouse.model.stream import StreamEvent

PLAIN = ChatRequest(model="m", messages=(Message(role="user", content="hi"),))

MapError = Callable[[int, bytes, str, Mapping[str, str]], UpstreamError]
GoldenTest = Callable[[Pair], None]


class ByteStreamDecoder(Protocol):
    def feed(self, data: bytes) -> Iterable[StreamEvent]: ...

    def finish(self, request: ChatRequest) -> Iterable[StreamEvent]: ...


def case_request(pair: Pair) -> ChatRequest:
    """The case's ``canonical_request.json`` (what a response or stream answers), else a plain one."""
    path = pair.source.parent / "canonical_request.json"
    if not path.exists():
        return PLAIN
    request = from_json(read_json(path))
    assert isinstance(request, ChatRequest)
    return request


def source_request(pair: Pair) -> ChatRequest:
    request = from_json(read_json(pair.source))
    assert isinstance(request, ChatRequest)
    return request


def wire_json(body: Any) -> Any:
    """A wire body as the JSON that goes out (TypedDicts and tuples serialised by orjson)."""
    return orjson.loads(orjson.dumps(body))


def stream_events(
    make: Callable[[], ByteStreamDecoder], data: bytes, request: ChatRequest, step: int | None = None
) -> list[Any]:
    """Decode a transcript fed whole or in ``step``-byte pieces; a raised error ends the list."""
    decoder = make()
    events: list[StreamEvent] = []
    chunks = [data] if step is None else [data[i : i + step] for i in range(0, len(data), step)]
    try:
        for chunk in chunks:
            for event in decoder.feed(chunk):
                events.append(event)
        for event in decoder.finish(request):
            events.append(event)
    except TollhouseError as error:
        return [*to_json(events), {"error": error_json(error)}]
    return list(to_json(events))


def error_json(error: TollhouseError) -> dict[str, Any]:
    return {
        "class": type(error).__name__,
        "status": error.status,
        "type": error.type,
        "code": error.code,
        "message": error.message,
        "retryable": error.retryable,
        "fallback_allowed": error.fallback_allowed,
        "headers": error.headers,
    }


def mapped_error(pair: Pair, map_error: MapError) -> dict[str, Any]:
    """``wire_error*.json`` (``{"status", "headers", "body"}``) through a provider's ``map_error``."""
    raw = read_json(pair.source)
    body = raw["body"] if isinstance(raw["body"], str) else orjson.dumps(raw["body"]).decode()
    return error_json(map_error(raw["status"], body.encode(), "upstream", raw.get("headers", {})))


@dataclass(frozen=True)
class NativeSuite:
    """A native provider's translator, as its golden folder exercises it."""

    root: Path  # the provider's golden folder
    build_request: Callable[[ChatRequest], object]  # canonical request -> wire body
    decode_response: Callable[[Any], object]  # wire JSON -> canonical response
    stream_decoder: Callable[[], ByteStreamDecoder]  # a fresh decoder per transcript
    map_error: MapError
    stream_ext: str = ".sse"  # the transcript files' ending (``.ndjson`` for Ollama)


class GoldenTests(NamedTuple):
    """The four parametrized tests, bound by the suite module to ``test_request`` and so on."""

    request: GoldenTest
    response: GoldenTest
    stream: GoldenTest
    error: GoldenTest


def golden_tests(suite: NativeSuite) -> GoldenTests:
    """Request, response, stream (whole and in 7-byte pieces) and error checks over ``suite.root``."""

    @pytest.mark.parametrize(
        "pair", params(pairs(suite.root, "canonical_request", ".json", "wire_request", ".json"))
    )
    def test_request(pair: Pair) -> None:
        check_json(pair, wire_json(suite.build_request(source_request(pair))))

    @pytest.mark.parametrize(
        "pair", params(pairs(suite.root, "wire_response", ".json", "canonical_response", ".json"))
    )
    def test_response(pair: Pair) -> None:
        try:
            actual: Any = to_json(suite.decode_response(read_json(pair.source)))
        except TollhouseError as error:
            actual = {"error": error_json(error)}
        check_json(pair, actual)

    @pytest.mark.parametrize(
        "pair", params(pairs(suite.root, "wire_stream", suite.stream_ext, "canonical_events", ".json"))
    )
    def test_stream(pair: Pair) -> None:
        data, request = pair.source.read_bytes(), case_request(pair)
        whole = stream_events(suite.stream_decoder, data, request)
        assert stream_events(suite.stream_decoder, data, request, 7) == whole
        check_json(pair, whole)

    @pytest.mark.parametrize(
        "pair", params(pairs(suite.root, "wire_error", ".json", "canonical_error", ".json"))
    )
    def test_error(pair: Pair) -> None:
        check_json(pair, mapped_error(pair, suite.map_error))

    return GoldenTests(test_request, test_response, test_stream, test_error)
