"""Anthropic streaming events → canonical stream events (and the passthrough relay's usage).

Events (https://docs.anthropic.com/en/api/messages-streaming): ``message_start``, then per
content block ``content_block_start`` / ``content_block_delta`` / ``content_block_stop``,
then ``message_delta`` (stop reason, cumulative output usage) and ``message_stop``; ``ping``
at any time; ``error`` when the stream fails after it began.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
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
from tollhouse.providers.anthropic.errors import stream_error
from tollhouse.providers.anthropic.response import decode_usage
from tollhouse.providers.anthropic.wire import STOP_REASONS
from tollhouse.providers.sse import SSEDecoder, SSEEvent
from tollhouse.providers.usage_count import StreamMeter


def _load(event: SSEEvent, provider: str) -> dict[str, Any]:
    try:
        data = orjson.loads(event.data)
    except orjson.JSONDecodeError:
        raise UpstreamUnavailable(f"provider {provider} sent a stream event that is not JSON") from None
    if not isinstance(data, dict):
        raise UpstreamUnavailable(f"provider {provider} sent a stream event that is not an object")
    return data


class UsageTracker:
    """Usage across a stream: input counts from ``message_start``, output from ``message_delta``."""

    __slots__ = ("usage",)

    def __init__(self) -> None:
        self.usage: Usage | None = None

    def note(self, data: dict[str, Any]) -> None:
        kind = data.get("type")
        if kind == "message_start":
            message = data.get("message")
            if isinstance(message, dict):
                self.usage = decode_usage(message.get("usage"))
        elif kind == "message_delta":
            delta = decode_usage(data.get("usage"))
            if delta is None:
                return
            if self.usage is None:
                self.usage = delta
            else:
                # message_delta's counts are cumulative; input counts appear there only when they changed.
                raw = data["usage"]
                self.usage = replace(
                    self.usage,
                    completion_tokens=delta.completion_tokens,
                    prompt_tokens=delta.prompt_tokens if "input_tokens" in raw else self.usage.prompt_tokens,
                )


class StreamDecoder:
    """One stream's state: bytes → events; block index → tool-call index; JSON-mode blocks; usage.

    ``feed`` and ``finish`` are generators: the events before a failure come out, then it raises.
    """

    __slots__ = (
        "_created",
        "_frames",
        "_json_blocks",
        "_json_tool",
        "_meter",
        "_provider",
        "_tools",
        "done",
        "usage",
    )

    def __init__(self, provider: str, created: int, json_tool: str | None = None) -> None:
        self._provider = provider
        self._created = created
        self._json_tool = json_tool
        self._frames = SSEDecoder()
        self._meter = StreamMeter()
        self._tools: dict[int, int] = {}  # content block index → tool call index
        self._json_blocks: set[int] = set()
        self.usage = UsageTracker()
        self.done = False

    def feed(self, data: bytes) -> Iterator[StreamEvent]:
        """Canonical events for the complete SSE events in ``data`` (and what came before)."""
        return self._events(self._frames.feed(data))

    def finish(self, request: ChatRequest) -> Iterator[StreamEvent]:
        """The last events once the upstream closed; raises if the stream was cut short.
        When the upstream reported no usage, an estimate is reported (every stream is metered)."""
        yield from self._events(self._frames.finish())
        if not self.done:
            raise UpstreamUnavailable(f"provider {self._provider} ended the stream early")
        if self.usage.usage is None:
            self.usage.usage = self._meter.estimate(request)
            yield UsageReport(self.usage.usage)

    def _events(self, frames: list[SSEEvent]) -> Iterator[StreamEvent]:
        for frame in frames:
            for event in self._frame(frame):
                self._meter.see(event)
                yield event

    def _frame(self, event: SSEEvent) -> list[StreamEvent]:
        if event.event == "ping" or not event.data:
            return []
        data = _load(event, self._provider)
        kind = data.get("type")
        self.usage.note(data)
        if kind == "message_start":
            message = data.get("message") or {}
            return [
                StreamStart(
                    id=str(message.get("id", "")), model=str(message.get("model", "")), created=self._created
                )
            ]
        if kind == "content_block_start":
            return self._block_start(data)
        if kind == "content_block_delta":
            return self._delta(data)
        if kind == "message_delta":
            stop = (data.get("delta") or {}).get("stop_reason")
            if not isinstance(stop, str):
                return []
            reason = STOP_REASONS.get(stop, "stop")
            return [Finish("stop" if reason == "tool_calls" and not self._tools else reason)]
        if kind == "message_stop":
            self.done = True
            return [UsageReport(self.usage.usage)] if self.usage.usage is not None else []
        if kind == "error":
            raise stream_error(data, self._provider)
        return []  # content_block_stop, and event types added later

    def _block_start(self, data: dict[str, Any]) -> list[StreamEvent]:
        index = data.get("index")
        block = data.get("content_block") or {}
        kind = block.get("type")
        if not isinstance(index, int):
            return []
        if kind == "tool_use" and block.get("name") == self._json_tool:
            self._json_blocks.add(index)
            return []
        if kind == "tool_use":
            call = self._tools.setdefault(index, len(self._tools))
            return [ToolCallDelta(index=call, id=str(block.get("id", "")), name=str(block.get("name", "")))]
        if kind == "text" and block.get("text"):
            return [TextDelta(str(block["text"]))]
        # redacted_thinking carries only opaque data: nothing a canonical stream can show.
        return []

    def _delta(self, data: dict[str, Any]) -> list[StreamEvent]:
        index = data.get("index")
        delta = data.get("delta") or {}
        kind = delta.get("type")
        if kind == "text_delta":
            return [TextDelta(str(delta.get("text", "")))]
        if kind == "thinking_delta":
            return [ReasoningDelta(str(delta.get("thinking", "")))]
        if kind == "signature_delta":
            return [ReasoningDelta("", signature=str(delta.get("signature", "")))]
        if kind == "input_json_delta":
            part = str(delta.get("partial_json", ""))
            if index in self._json_blocks:
                return [TextDelta(part)] if part else []
            if isinstance(index, int) and index in self._tools and part:
                return [ToolCallDelta(index=self._tools[index], arguments=part)]
        return []
