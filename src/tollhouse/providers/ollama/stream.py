"""Ollama's streamed ``/api/chat``: newline-delimited JSON objects → canonical stream events.

Each line is a partial answer (``message.content`` / ``thinking`` pieces; tool calls whole);
the last has ``done: true``, the ``done_reason`` and the token counts. A failure mid-stream
is a line ``{"error": "…"}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import orjson

from tollhouse.errors import UpstreamUnavailable
from tollhouse.model.chat import ChatRequest, Usage
from tollhouse.model.stream import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from tollhouse.providers.ollama.response import decode_usage, finish_reason, tool_calls
from tollhouse.providers.usage_count import StreamMeter


class StreamDecoder:
    """Splits NDJSON across reads; numbers tool calls; keeps the final line's usage."""

    __slots__ = (
        "_buffer",
        "_calls",
        "_created",
        "_meter",
        "_model",
        "_provider",
        "_started",
        "done",
        "usage",
    )

    def __init__(self, provider: str, model: str, created: int) -> None:
        self._provider = provider
        self._model = model
        self._created = created
        self._buffer = b""
        self._meter = StreamMeter()
        self._started = False
        self._calls = 0
        self.usage: Usage | None = None
        self.done = False

    def feed(self, data: bytes) -> Iterator[StreamEvent]:
        buffer = self._buffer + data
        end = buffer.rfind(b"\n")
        if end < 0:
            self._buffer = buffer
            return
        complete, self._buffer = buffer[:end], buffer[end + 1 :]
        for line in complete.split(b"\n"):
            yield from self._line(line)

    def finish(self, request: ChatRequest) -> Iterator[StreamEvent]:
        rest, self._buffer = self._buffer, b""
        yield from self._line(rest)
        if not self.done:
            raise UpstreamUnavailable(f"provider {self._provider} ended the stream early")
        if self.usage is None:
            self.usage = self._meter.estimate(request)
        yield UsageReport(self.usage)

    def _line(self, line: bytes) -> Iterator[StreamEvent]:
        if not line.strip():
            return
        try:
            body = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise UpstreamUnavailable(
                f"provider {self._provider} sent a stream line that is not JSON"
            ) from None
        if not isinstance(body, dict):
            return
        if "error" in body:
            raise UpstreamUnavailable(
                f"provider {self._provider} failed mid-stream: {str(body['error'])[:300]}"
            )
        for event in self._events(body):
            self._meter.see(event)
            yield event

    def _events(self, body: dict[str, Any]) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if not self._started:
            self._started = True
            out.append(StreamStart(id="", model=str(body.get("model") or self._model), created=self._created))
        message = body.get("message") or {}
        if message.get("thinking"):
            out.append(ReasoningDelta(str(message["thinking"])))
        if message.get("content"):
            out.append(TextDelta(str(message["content"])))
        for call in tool_calls(message, self._calls):
            index = int(call.id.removeprefix("call_"))
            out.append(ToolCallDelta(index=index, id=call.id, name=call.name, arguments=call.arguments))
            self._calls += 1
        finish = finish_reason(body, self._calls > 0)
        if finish is not None:
            self.done = True
            self.usage = decode_usage(body)
            out.append(Finish(finish))
        return out
