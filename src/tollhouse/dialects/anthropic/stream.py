"""Canonical stream events → Anthropic's Messages stream (named server-sent events).

The sequence is Anthropic's: ``message_start``, a ``ping``, then per content block
``content_block_start`` / ``content_block_delta``… / ``content_block_stop``, and at the end
``message_delta`` (stop reason and cumulative usage) and ``message_stop``. Blocks are
sequential: a new kind of content (text, thinking, another tool call) closes the open one.
Usage is known only at the end, so ``message_start`` reports zeros and ``message_delta``
carries the totals (the SDKs overwrite the start's numbers with the delta's).
"""

from __future__ import annotations

from typing import Any

import orjson

from tollhouse.dialects.anthropic.encode import encode_usage, stop_reason
from tollhouse.dialects.anthropic.errors import error_event
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


def sse(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class MessageStreamEncoder:
    """Encodes one stream; ``encode`` per event, then ``finish`` once for the closing events."""

    final_event = b"event: message_stop"  # where a relayed Anthropic stream's end begins
    __slots__ = ("_closed_tools", "_finish", "_index", "_kind", "_model", "_started", "_tool", "_usage")

    def __init__(self, model: str) -> None:
        self._model = model  # used when the provider's stream names none
        self._started = False
        self._index = -1  # the open block's index; -1 before the first block
        self._kind: str | None = None  # "text", "thinking", "tool" or None when no block is open
        self._tool = -1  # the open tool block's canonical tool-call index
        self._closed_tools: set[int] = set()
        self._finish: FinishReason | None = None
        self._usage: Usage | None = None

    def _start(self, message_id: str, model: str) -> bytes:
        self._started = True
        message: dict[str, object] = {
            "id": message_id,
            "type": "message",
            "role": "assistant",
            "model": model or self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": encode_usage(None),
        }
        return sse("message_start", {"type": "message_start", "message": message}) + sse(
            "ping", {"type": "ping"}
        )

    def _close(self) -> bytes:
        if self._kind is None:
            return b""
        if self._kind == "tool":
            self._closed_tools.add(self._tool)
        self._kind = None
        return sse("content_block_stop", {"type": "content_block_stop", "index": self._index})

    def _open(self, kind: str, block: dict[str, Any]) -> bytes:
        out = self._close()
        self._index += 1
        self._kind = kind
        return out + sse(
            "content_block_start",
            {"type": "content_block_start", "index": self._index, "content_block": block},
        )

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return sse(
            "content_block_delta", {"type": "content_block_delta", "index": self._index, "delta": delta}
        )

    def encode(self, event: StreamEvent) -> bytes:
        """The SSE bytes for ``event`` (possibly none)."""
        if isinstance(event, StreamStart):
            return b"" if self._started else self._start(event.id, event.model)
        out = b"" if self._started else self._start("msg_tollhouse", "")
        if getattr(event, "choice", 0) != 0:
            return out  # Anthropic answers have one choice
        if isinstance(event, TextDelta):
            if event.text:
                if self._kind != "text":
                    out += self._open("text", {"type": "text", "text": ""})
                out += self._delta({"type": "text_delta", "text": event.text})
        elif isinstance(event, ReasoningDelta):
            out += self._reasoning(event)
        elif isinstance(event, ToolCallDelta):
            out += self._tool_delta(event)
        elif isinstance(event, Finish):
            self._finish = event.reason
            out += self._close()
        elif isinstance(event, UsageReport):
            self._usage = event.usage
        return out

    def _reasoning(self, event: ReasoningDelta) -> bytes:
        out = b""
        if (event.text or event.signature) and self._kind != "thinking":
            out += self._open("thinking", {"type": "thinking", "thinking": "", "signature": ""})
        if event.text:
            out += self._delta({"type": "thinking_delta", "thinking": event.text})
        if event.signature:
            out += self._delta({"type": "signature_delta", "signature": event.signature})
        return out

    def _tool_delta(self, event: ToolCallDelta) -> bytes:
        out = b""
        if self._kind != "tool" or self._tool != event.index:
            if event.index in self._closed_tools:
                # A block cannot reopen: an upstream interleaving calls this way cannot be relayed.
                raise UpstreamUnavailable("the provider interleaved the arguments of parallel tool calls")
            block = {
                "type": "tool_use",
                "id": event.id or f"toolu_{event.index}",
                "name": event.name or "",
                "input": {},
            }
            out += self._open("tool", block)
            self._tool = event.index
        if event.arguments:
            out += self._delta({"type": "input_json_delta", "partial_json": event.arguments})
        return out

    def error(self, error: TollhouseError) -> bytes:
        """The ``error`` event that ends a failed stream."""
        return error_event(error)

    def finish(self) -> bytes:
        """Close the open block, then ``message_delta`` (stop reason, usage) and ``message_stop``."""
        out = b"" if self._started else self._start("msg_tollhouse", "")
        out += self._close()
        usage = encode_usage(self._usage)
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": stop_reason(self._finish), "stop_sequence": None},
            "usage": usage,
        }
        return out + sse("message_delta", delta) + sse("message_stop", {"type": "message_stop"})
