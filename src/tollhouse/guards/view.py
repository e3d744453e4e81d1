"""The TextView: every piece of text in a request or response, with its scope and its path.

A guard never parses a specific API's JSON: it reads ``Segment``s. Each segment's ``path``
leads from the payload's root to the string it came from (keys and list indices), so a
redaction is written back into the caller's own wire format with ``write``.

Views exist for OpenAI chat completions and embeddings, Anthropic Messages and OpenAI
Responses, requests and responses alike.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tollhouse.guards.verdict import Scope

Path = tuple[str | int, ...]

_ROLE_SCOPES = {
    "system": Scope.SYSTEM,
    "developer": Scope.SYSTEM,
    "user": Scope.USER,
    "assistant": Scope.ASSISTANT,
    "tool": Scope.TOOL_OUTPUT,
    "function": Scope.TOOL_OUTPUT,
}
_MAX_DEPTH = 32  # tool arguments nest; a pathological document is not walked further


@dataclass(frozen=True, slots=True)
class Segment:
    scope: Scope
    text: str
    path: Path


@dataclass(frozen=True, slots=True)
class TextView:
    """The segments of one payload, in document order."""

    segments: tuple[Segment, ...]

    def of(self, scopes: frozenset[Scope]) -> TextView:
        """Only the segments in ``scopes`` (paths keep pointing into the same payload)."""
        return TextView(tuple(s for s in self.segments if s.scope in scopes))

    @property
    def chars(self) -> int:
        return sum(len(s.text) for s in self.segments)


def write(payload: Any, path: Path, text: str) -> None:
    """Put ``text`` at ``path`` in ``payload`` (a decoded JSON document), in place."""
    node = payload
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = text


def _strings(value: Any, path: Path, scope: Scope, depth: int = 0) -> Iterator[Segment]:
    """Every string leaf under ``value`` (tool arguments given as objects)."""
    if isinstance(value, str):
        if value:
            yield Segment(scope, value, path)
    elif depth < _MAX_DEPTH and isinstance(value, dict):
        for key, item in value.items():
            yield from _strings(item, (*path, key), scope, depth + 1)
    elif depth < _MAX_DEPTH and isinstance(value, list):
        for index, item in enumerate(value):
            yield from _strings(item, (*path, index), scope, depth + 1)


def _parts(content: Any, path: Path, scope: Scope, key: str = "text") -> Iterator[Segment]:
    """A content that is a string, or a list of parts whose text sits under ``key``."""
    if isinstance(content, str):
        if content:
            yield Segment(scope, content, path)
    elif isinstance(content, list):
        for j, part in enumerate(content):
            if isinstance(part, dict) and isinstance(part.get(key), str) and part[key]:
                yield Segment(scope, part[key], (*path, j, key))


# ---------------------------------------------------------------- OpenAI chat completions


def _openai_message(message: dict[str, Any], path: Path, scope: Scope) -> Iterator[Segment]:
    yield from _parts(message.get("content"), (*path, "content"), scope)
    for k, call in enumerate(message.get("tool_calls") or ()):
        fn = call.get("function") if isinstance(call, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("arguments"), str) and fn["arguments"]:
            yield Segment(
                Scope.TOOL_INPUT, fn["arguments"], (*path, "tool_calls", k, "function", "arguments")
            )


def openai_chat_request(payload: dict[str, Any]) -> Iterator[Segment]:
    for i, message in enumerate(payload.get("messages") or ()):
        if isinstance(message, dict):
            scope = _ROLE_SCOPES.get(str(message.get("role")), Scope.USER)
            yield from _openai_message(message, ("messages", i), scope)


def openai_chat_response(body: dict[str, Any]) -> Iterator[Segment]:
    for i, choice in enumerate(body.get("choices") or ()):
        message = choice.get("message") if isinstance(choice, dict) else None
        if isinstance(message, dict):
            yield from _openai_message(message, ("choices", i, "message"), Scope.ASSISTANT)


def embeddings_request(payload: dict[str, Any]) -> Iterator[Segment]:
    data = payload.get("input")
    if isinstance(data, str):
        yield Segment(Scope.USER, data, ("input",))
    elif isinstance(data, list):
        for i, item in enumerate(data):
            if isinstance(item, str) and item:
                yield Segment(Scope.USER, item, ("input", i))


# ---------------------------------------------------------------- Anthropic Messages


def _anthropic_block(block: dict[str, Any], path: Path, scope: Scope) -> Iterator[Segment]:
    kind = block.get("type")
    if kind == "text" and isinstance(block.get("text"), str):
        yield from _parts(block["text"], (*path, "text"), scope)
    elif kind == "tool_use":
        yield from _strings(block.get("input"), (*path, "input"), Scope.TOOL_INPUT)
    elif kind == "tool_result":
        yield from _parts(block.get("content"), (*path, "content"), Scope.TOOL_OUTPUT)
    elif kind == "document":
        source = block.get("source")
        if isinstance(source, dict) and source.get("type") == "text":
            yield from _parts(source.get("data"), (*path, "source", "data"), scope)


def _anthropic_content(content: Any, path: Path, scope: Scope) -> Iterator[Segment]:
    if isinstance(content, str):
        yield from _parts(content, path, scope)
    elif isinstance(content, list):
        for j, block in enumerate(content):
            if isinstance(block, dict):
                yield from _anthropic_block(block, (*path, j), scope)


def anthropic_request(payload: dict[str, Any]) -> Iterator[Segment]:
    yield from _anthropic_content(payload.get("system"), ("system",), Scope.SYSTEM)
    for i, message in enumerate(payload.get("messages") or ()):
        if isinstance(message, dict):
            scope = _ROLE_SCOPES.get(str(message.get("role")), Scope.USER)
            yield from _anthropic_content(message.get("content"), ("messages", i, "content"), scope)


def anthropic_response(body: dict[str, Any]) -> Iterator[Segment]:
    yield from _anthropic_content(body.get("content"), ("content",), Scope.ASSISTANT)


# ---------------------------------------------------------------- OpenAI Responses


def _responses_item(item: dict[str, Any], path: Path, default: Scope) -> Iterator[Segment]:
    kind = item.get("type", "message")
    if kind == "message":
        scope = _ROLE_SCOPES.get(str(item.get("role")), default)
        yield from _parts(item.get("content"), (*path, "content"), scope)
    elif kind == "function_call" and isinstance(item.get("arguments"), str) and item["arguments"]:
        yield Segment(Scope.TOOL_INPUT, item["arguments"], (*path, "arguments"))
    elif kind == "function_call_output":
        yield from _parts(item.get("output"), (*path, "output"), Scope.TOOL_OUTPUT)


def responses_request(payload: dict[str, Any]) -> Iterator[Segment]:
    if isinstance(payload.get("instructions"), str) and payload["instructions"]:
        yield Segment(Scope.SYSTEM, payload["instructions"], ("instructions",))
    data = payload.get("input")
    if isinstance(data, str):
        if data:
            yield Segment(Scope.USER, data, ("input",))
        return
    for i, item in enumerate(data or ()):
        if isinstance(item, dict):
            yield from _responses_item(item, ("input", i), Scope.USER)


def responses_response(body: dict[str, Any]) -> Iterator[Segment]:
    for i, item in enumerate(body.get("output") or ()):
        if isinstance(item, dict):
            yield from _responses_item(item, ("output", i), Scope.ASSISTANT)


_REQUESTS = {
    "chat": openai_chat_request,
    "embeddings": embeddings_request,
    "messages": anthropic_request,
    "count_tokens": anthropic_request,
    "responses": responses_request,
}
_RESPONSES = {"chat": openai_chat_response, "messages": anthropic_response, "responses": responses_response}


def request_view(surface: str, payload: dict[str, Any]) -> TextView:
    """The view of a request body on ``surface`` (empty for surfaces without text)."""
    reader = _REQUESTS.get(surface)
    return TextView(tuple(reader(payload))) if reader is not None else TextView(())


def response_view(surface: str, body: dict[str, Any]) -> TextView:
    """The view of a (non-streamed) response body on ``surface``."""
    reader = _RESPONSES.get(surface)
    return TextView(tuple(reader(body))) if reader is not None else TextView(())
