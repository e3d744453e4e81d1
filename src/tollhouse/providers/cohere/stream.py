"""Cohere v2 chat stream → canonical stream events (https://docs.cohere.com/v2/docs/streaming).

Events: ``message-start``; ``content-start`` / ``content-delta`` / ``content-end`` (text or
thinking); ``tool-plan-delta``; ``tool-call-start`` / ``tool-call-delta`` / ``tool-call-end``
(arguments in pieces); ``citation-start`` / ``citation-end``; ``message-end`` with the finish
reason and usage. Each event's JSON carries its ``type``.
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
from tollhouse.providers.cohere.response import decode_usage
from tollhouse.providers.cohere.wire import FINISH_REASONS
from tollhouse.providers.sse import SSEDecoder
from tollhouse.providers.usage_count import StreamMeter


def _message(data: dict[str, Any]) -> dict[str, Any]:
    delta = data.get("delta") or {}
    message = delta.get("message") if isinstance(delta, dict) else None
    return message if isinstance(message, dict) else {}


class StreamDecoder:
    """One Cohere stream: its events in, canonical events out, usage from ``message-end``."""

    __slots__ = ("_created", "_frames", "_meter", "_model", "_provider", "done", "usage")

    def __init__(self, provider: str, model: str, created: int) -> None:
        self._provider = provider
        self._model = model
        self._created = created
        self._frames = SSEDecoder()
        self._meter = StreamMeter()
        self.usage: Usage | None = None
        self.done = False

    def feed(self, data: bytes) -> Iterator[StreamEvent]:
        for frame in self._frames.feed(data):
            for event in self._event(frame.data):
                self._meter.see(event)
                yield event

    def finish(self, request: ChatRequest) -> Iterator[StreamEvent]:
        for frame in self._frames.finish():
            yield from self._event(frame.data)
        if not self.done:
            raise UpstreamUnavailable(f"provider {self._provider} ended the stream early")
        if self.usage is None:
            self.usage = self._meter.estimate(request)
        yield UsageReport(self.usage)

    def _event(self, raw: str) -> list[StreamEvent]:
        if not raw or raw == "[DONE]":
            return []
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise UpstreamUnavailable(
                f"provider {self._provider} sent a stream event that is not JSON"
            ) from None
        kind = data.get("type") if isinstance(data, dict) else None
        if kind == "message-start":
            return [StreamStart(id=str(data.get("id", "")), model=self._model, created=self._created)]
        message = _message(data)
        if kind == "content-delta":
            content = message.get("content") or {}
            if content.get("thinking"):
                return [ReasoningDelta(str(content["thinking"]))]
            return [TextDelta(str(content["text"]))] if content.get("text") else []
        if kind == "tool-plan-delta":
            plan = message.get("tool_plan")
            return [ReasoningDelta(str(plan))] if plan else []
        if kind in ("tool-call-start", "tool-call-delta"):
            return self._tool(data, message.get("tool_calls") or {}, kind == "tool-call-start")
        if kind == "message-end":
            delta = data.get("delta") or {}
            self.done = True
            self.usage = decode_usage(delta.get("usage")) or self.usage
            reason = delta.get("finish_reason")
            if reason == "ERROR" and delta.get("error"):
                raise UpstreamUnavailable(
                    f"provider {self._provider} failed mid-stream: {str(delta['error'])[:300]}"
                )
            return [Finish(FINISH_REASONS.get(reason, "stop") if isinstance(reason, str) else "stop")]
        return []

    def _tool(self, data: dict[str, Any], call: dict[str, Any], start: bool) -> list[StreamEvent]:
        index = data.get("index")
        if not isinstance(index, int):
            return []
        fn = call.get("function") or {}
        arguments = str(fn.get("arguments") or "")
        if start:
            return [
                ToolCallDelta(
                    index=index, id=str(call.get("id", "")), name=str(fn.get("name", "")), arguments=arguments
                )
            ]
        return [ToolCallDelta(index=index, arguments=arguments)] if arguments else []
