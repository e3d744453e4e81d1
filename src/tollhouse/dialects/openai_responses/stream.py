"""Canonical stream events → the Responses event stream (named SSE events, sequence numbers).

``response.created`` and ``response.in_progress`` open the stream; each output item is
``response.output_item.added`` … its deltas … ``response.output_item.done`` (messages with
``response.content_part.added`` / ``response.output_text.delta`` / ``.done`` /
``response.content_part.done``; function calls with ``response.function_call_arguments.delta``
/ ``.done``; reasoning with ``response.reasoning_text.delta`` / ``.done``); the stream ends
with ``response.completed`` (or ``response.incomplete``) carrying the whole response and its
usage. Items are sequential: a different kind of content closes the open item.
"""

from __future__ import annotations

from typing import Any

import orjson

from tollhouse.dialects.openai_responses.encode import (
    final_status,
    function_item,
    message_item,
    reasoning_item,
    response_id,
    response_object,
)
from tollhouse.errors import TollhouseError, UpstreamUnavailable
from tollhouse.model.chat import FinishReason, Usage
from tollhouse.model.stream import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)


class _Item:
    __slots__ = ("call_id", "id", "kind", "name", "text", "tool")

    def __init__(self, kind: str, item_id: str, tool: int = -1, call_id: str = "", name: str = "") -> None:
        self.kind, self.id, self.tool, self.call_id, self.name = kind, item_id, tool, call_id, name
        self.text = ""  # text, reasoning or arguments so far

    def done(self) -> dict[str, Any]:
        if self.kind == "message":
            return message_item(self.id, self.text)
        if self.kind == "reasoning":
            return reasoning_item(self.id, self.text)
        return function_item(self.id, self.call_id, self.name, self.text)


class ResponseStreamEncoder:
    """Encodes one stream; ``encode`` per event, then ``finish`` (or ``error``) once."""

    final_event = b"event: response.completed"

    __slots__ = ("_closed_tools", "_created", "_finish", "_id", "_model", "_open", "_output", "_request",
                 "_seq", "_started", "_usage")  # fmt: skip

    def __init__(self, model: str, request: dict[str, Any]) -> None:
        self._model = model
        self._request = request
        self._id = "resp_tollhouse"
        self._created = 0
        self._seq = 0
        self._started = False
        self._open: _Item | None = None
        self._output: list[dict[str, Any]] = []  # finished items, in output order
        self._closed_tools: set[int] = set()
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None

    def _event(self, kind: str, data: dict[str, Any]) -> bytes:
        payload = {"type": kind, **data, "sequence_number": self._seq}
        self._seq += 1
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"

    def _snapshot(self, status: str) -> dict[str, Any]:
        output = self._output if status != "in_progress" else []
        return response_object(
            self._id, self._created, self._model, self._request, output, status, self._finish, self._usage
        )

    def _start(self, event: StreamStart | None) -> bytes:
        self._started = True
        if event is not None:
            self._id, self._created = response_id(event.id), event.created
            self._model = event.model or self._model
        return self._event("response.created", {"response": self._snapshot("in_progress")}) + self._event(
            "response.in_progress", {"response": self._snapshot("in_progress")}
        )

    def _where(self, item: _Item) -> dict[str, Any]:
        return {"item_id": item.id, "output_index": len(self._output)}

    def _close(self) -> bytes:
        item, self._open = self._open, None
        if item is None:
            return b""
        where = self._where(item)
        out = b""
        if item.kind == "message":
            part = {"type": "output_text", "text": item.text, "annotations": [], "logprobs": []}
            out += self._event(
                "response.output_text.done", {**where, "content_index": 0, "text": item.text, "logprobs": []}
            )
            out += self._event("response.content_part.done", {**where, "content_index": 0, "part": part})
        elif item.kind == "reasoning":
            part = {"type": "reasoning_text", "text": item.text}
            out += self._event(
                "response.reasoning_text.done", {**where, "content_index": 0, "text": item.text}
            )
            out += self._event("response.content_part.done", {**where, "content_index": 0, "part": part})
        else:
            self._closed_tools.add(item.tool)
            out += self._event(
                "response.function_call_arguments.done", {**where, "arguments": item.text, "name": item.name}
            )
        done = item.done()
        out += self._event("response.output_item.done", {"output_index": where["output_index"], "item": done})
        self._output.append(done)
        return out

    def _add(self, kind: str, tool: int = -1, call_id: str = "", name: str = "") -> bytes:
        out = self._close()  # first: an item's id and output index count the items before it
        prefix = {"message": "msg", "reasoning": "rs"}.get(kind, "fc")
        item = self._open = _Item(kind, f"{prefix}_{self._id}_{len(self._output)}", tool, call_id, name)
        where = self._where(item)
        if item.kind == "message":
            added = message_item(item.id, "", "in_progress")
            part: dict[str, Any] = {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
        elif item.kind == "reasoning":
            added = {"id": item.id, "type": "reasoning", "summary": [], "content": []}
            part = {"type": "reasoning_text", "text": ""}
        else:
            added = function_item(item.id, item.call_id, item.name, "", "in_progress")
            return out + self._event(
                "response.output_item.added", {"output_index": where["output_index"], "item": added}
            )
        out += self._event(
            "response.output_item.added", {"output_index": where["output_index"], "item": added}
        )
        return out + self._event("response.content_part.added", {**where, "content_index": 0, "part": part})

    def encode(self, event: StreamEvent) -> bytes:
        """The SSE bytes for ``event`` (possibly none)."""
        if isinstance(event, StreamStart):
            return b"" if self._started else self._start(event)
        out = b"" if self._started else self._start(None)
        if getattr(event, "choice", 0) != 0:
            return out
        if isinstance(event, TextDelta) and event.text:
            if self._open is None or self._open.kind != "message":
                out += self._add("message")
            out += self._delta("response.output_text.delta", event.text, {"content_index": 0, "logprobs": []})
        elif isinstance(event, ReasoningDelta) and event.text:
            if self._open is None or self._open.kind != "reasoning":
                out += self._add("reasoning")
            out += self._delta("response.reasoning_text.delta", event.text, {"content_index": 0})
        elif isinstance(event, ToolCallDelta):
            out += self._tool_delta(event)
        elif isinstance(event, Finish):
            self._finish = event.reason
            out += self._close()
        elif isinstance(event, UsageReport):
            self._usage = event.usage
        return out

    def _delta(self, kind: str, text: str, extra: dict[str, Any]) -> bytes:
        assert self._open is not None
        self._open.text += text
        return self._event(kind, {**self._where(self._open), **extra, "delta": text})

    def _tool_delta(self, event: ToolCallDelta) -> bytes:
        out = b""
        item = self._open
        if item is None or item.kind != "function_call" or item.tool != event.index:
            if event.index in self._closed_tools:
                raise UpstreamUnavailable("the provider interleaved the arguments of parallel tool calls")
            call_id = event.id or f"call_{event.index}"
            out += self._add("function_call", event.index, call_id, event.name or "")
        if event.arguments:
            out += self._delta("response.function_call_arguments.delta", event.arguments, {})
        return out

    def finish(self) -> bytes:
        """Close the open item, then ``response.completed`` (or ``.incomplete``) with usage."""
        out = b"" if self._started else self._start(None)
        out += self._close()
        status = final_status(self._finish)
        return out + self._event(f"response.{status}", {"response": self._snapshot(status)})

    def error(self, error: TollhouseError) -> bytes:
        """An ``error`` event, then ``response.failed``: how a broken stream ends."""
        out = b"" if self._started else self._start(None)
        out += self._event("error", {"code": error.code, "message": error.message, "param": error.param})
        failed = self._snapshot("failed")
        code = "rate_limit_exceeded" if error.status == 429 else "server_error"
        failed["error"] = {"code": code, "message": error.message}
        return out + self._event("response.failed", {"response": failed})
