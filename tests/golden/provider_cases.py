"""What the native providers' golden suites share: a case's request, streams fed in pieces, errors.

Each suite (``<provider>/test_<provider>_golden.py``) binds its translator functions to these.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Protocol

import orjson

from tests.golden.codec import from_json, read_json, to_json
from tests.golden.golden_pairs import Pair
from tollhouse.errors import TollhouseError, UpstreamError
from tollhouse.model.chat import ChatRequest, Message
from tollhouse.model.stream import StreamEvent

PLAIN = ChatRequest(model="m", messages=(Message(role="user", content="hi"),))


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


def mapped_error(
    pair: Pair, map_error: Callable[[int, bytes, str, Mapping[str, str]], UpstreamError]
) -> dict[str, Any]:
    """``wire_error*.json`` (``{"status", "headers", "body"}``) through a provider's ``map_error``."""
    raw = read_json(pair.source)
    body = raw["body"] if isinstance(raw["body"], str) else orjson.dumps(raw["body"]).decode()
    return error_json(map_error(raw["status"], body.encode(), "upstream", raw.get("headers", {})))
