"""ConverseStream: AWS event-stream frames → canonical stream events.

The body is ``application/vnd.amazon.eventstream`` (binary frames: prelude with lengths and
CRC, headers, JSON payload, message CRC — decoded and checked by botocore's
``EventStreamBuffer``). ``:event-type`` names each event: ``messageStart``,
``contentBlockStart``, ``contentBlockDelta``, ``contentBlockStop``, ``messageStop``,
``metadata`` (usage); ``:message-type: exception`` carries a failure
(https://docs.aws.amazon.com/bedrock/latest/APIReference/API_runtime_ConverseStream.html).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import orjson
from botocore.eventstream import EventStreamBuffer, EventStreamMessage, ParserError

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
from tollhouse.providers.bedrock.errors import stream_exception
from tollhouse.providers.bedrock.response import decode_usage
from tollhouse.providers.bedrock.wire import STOP_REASONS
from tollhouse.providers.usage_count import StreamMeter


class StreamDecoder:
    """One ConverseStream: block index → tool-call index, the JSON-mode tool's blocks, usage."""

    __slots__ = (
        "_buffer",
        "_created",
        "_json_blocks",
        "_json_tool",
        "_meter",
        "_model",
        "_provider",
        "_tools",
        "done",
        "stopped",
        "usage",
    )

    def __init__(self, provider: str, model: str, created: int, json_tool: str | None = None) -> None:
        self._provider = provider
        self._model = model
        self._created = created
        self._json_tool = json_tool
        self._buffer = EventStreamBuffer()
        self._meter = StreamMeter()
        self._tools: dict[int, int] = {}
        self._json_blocks: set[int] = set()
        self.usage: Usage | None = None
        self.stopped = False
        self.done = False

    def feed(self, data: bytes) -> Iterator[StreamEvent]:
        self._buffer.add_data(data)
        frames = iter(self._buffer)
        while True:
            try:
                message = next(frames)
            except StopIteration:
                return
            except ParserError as exc:  # bad CRC or lengths: nothing after it can be trusted
                raise UpstreamUnavailable(f"provider {self._provider} sent a corrupt event stream") from exc
            for event in self._message(message):
                self._meter.see(event)
                yield event

    def finish(self, request: ChatRequest) -> Iterator[StreamEvent]:
        if not self.stopped:
            raise UpstreamUnavailable(f"provider {self._provider} ended the stream early")
        if self.usage is None:  # metadata never came: count it ourselves
            self.usage = self._meter.estimate(request)
            yield UsageReport(self.usage)

    def _message(self, message: EventStreamMessage) -> list[StreamEvent]:
        headers = cast(dict[str, Any], message.headers)  # botocore-stubs mistype it as int
        kind = headers.get(":message-type")
        if kind == "exception" or kind == "error":
            name = headers.get(":exception-type") or headers.get(":error-code")
            raise stream_exception(str(name), bytes(message.payload), self._provider)
        try:
            data = orjson.loads(message.payload) if message.payload else {}
        except orjson.JSONDecodeError:
            raise UpstreamUnavailable(f"provider {self._provider} sent an event that is not JSON") from None
        return self._event(str(headers.get(":event-type")), data if isinstance(data, dict) else {})

    def _event(self, kind: str, data: dict[str, Any]) -> list[StreamEvent]:
        if kind == "messageStart":
            return [StreamStart(id="", model=self._model, created=self._created)]
        index = data.get("contentBlockIndex")
        if kind == "contentBlockStart":
            use = (data.get("start") or {}).get("toolUse")
            if not isinstance(use, dict) or not isinstance(index, int):
                return []
            if use.get("name") == self._json_tool:
                self._json_blocks.add(index)
                return []
            call = self._tools.setdefault(index, len(self._tools))
            return [
                ToolCallDelta(index=call, id=str(use.get("toolUseId", "")), name=str(use.get("name", "")))
            ]
        if kind == "contentBlockDelta":
            return self._delta(index, data.get("delta") or {})
        if kind == "messageStop":
            self.stopped = True
            stop = data.get("stopReason")
            reason = STOP_REASONS.get(stop, "stop") if isinstance(stop, str) else "stop"
            return [Finish("stop" if reason == "tool_calls" and not self._tools else reason)]
        if kind == "metadata":
            self.usage = decode_usage(data.get("usage"))
            self.done = True
            return [UsageReport(self.usage)] if self.usage is not None else []
        return []

    def _delta(self, index: Any, delta: dict[str, Any]) -> list[StreamEvent]:
        if "text" in delta:
            return [TextDelta(str(delta["text"]))]
        if "toolUse" in delta:
            part = str((delta["toolUse"] or {}).get("input", ""))
            if index in self._json_blocks:
                return [TextDelta(part)] if part else []
            if index in self._tools and part:
                return [ToolCallDelta(index=self._tools[index], arguments=part)]
            return []
        reasoning = delta.get("reasoningContent")
        if isinstance(reasoning, dict):
            if "text" in reasoning:
                return [ReasoningDelta(str(reasoning["text"]))]
            if "signature" in reasoning:
                return [ReasoningDelta("", signature=str(reasoning["signature"]))]
        return []
