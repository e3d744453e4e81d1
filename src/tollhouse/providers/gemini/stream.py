"""Gemini ``streamGenerateContent?alt=sse`` → canonical stream events.

Each SSE event is a whole ``GenerateContentResponse`` holding the next parts of each
candidate; ``usageMetadata`` rides along (cumulative) and the last chunk of a candidate
carries its ``finishReason``. Function calls arrive whole, never split.
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
from tollhouse.providers.gemini.errors import blocked_prompt
from tollhouse.providers.gemini.response import call_id, decode_usage, finish_reason
from tollhouse.providers.sse import SSEDecoder
from tollhouse.providers.tool_args import dump_arguments
from tollhouse.providers.usage_count import StreamMeter


class StreamDecoder:
    """One stream's state: started, tool calls per candidate, finished candidates, usage."""

    __slots__ = (
        "_calls",
        "_created",
        "_finished",
        "_frames",
        "_meter",
        "_model",
        "_provider",
        "_started",
        "usage",
    )

    def __init__(self, provider: str, model: str, created: int) -> None:
        self._provider = provider
        self._model = model
        self._created = created
        self._frames = SSEDecoder()
        self._meter = StreamMeter()
        self._started = False
        self._calls: dict[int, int] = {}  # candidate → tool calls so far
        self._finished: set[int] = set()
        self.usage: Usage | None = None

    def feed(self, data: bytes) -> Iterator[StreamEvent]:
        for frame in self._frames.feed(data):
            yield from self._chunk(frame.data)

    def finish(self, request: ChatRequest) -> Iterator[StreamEvent]:
        for frame in self._frames.finish():
            yield from self._chunk(frame.data)
        if not self._finished:
            raise UpstreamUnavailable(f"provider {self._provider} ended the stream early")
        if self.usage is None:
            self.usage = self._meter.estimate(request)
        yield UsageReport(self.usage)

    def _chunk(self, data: str) -> Iterator[StreamEvent]:
        if not data:
            return
        try:
            body = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise UpstreamUnavailable(
                f"provider {self._provider} sent a stream chunk that is not JSON"
            ) from None
        if not isinstance(body, dict):
            raise UpstreamUnavailable(f"provider {self._provider} sent a stream chunk that is not an object")
        error = blocked_prompt(body, self._provider)
        if error is not None:
            raise error
        if not self._started:
            self._started = True
            model = str(body.get("modelVersion") or self._model)
            yield StreamStart(id=str(body.get("responseId") or ""), model=model, created=self._created)
        usage = decode_usage(body.get("usageMetadata"))
        if usage is not None:
            self.usage = usage
        response_id = str(body.get("responseId") or "")
        for position, candidate in enumerate(body.get("candidates") or []):
            for event in self._candidate(candidate, position, response_id):
                self._meter.see(event)
                yield event

    def _candidate(self, candidate: dict[str, Any], position: int, response_id: str) -> Iterator[StreamEvent]:
        index = candidate.get("index")
        choice = index if isinstance(index, int) else position
        for part in (candidate.get("content") or {}).get("parts") or []:
            if "functionCall" in part:
                n = self._calls.get(choice, 0)
                self._calls[choice] = n + 1
                call = part["functionCall"]
                yield ToolCallDelta(
                    index=n,
                    id=call_id(part, n, response_id),
                    name=str(call.get("name", "")),
                    arguments=dump_arguments(call.get("args")),
                    choice=choice,
                )
            elif part.get("thought") is True:
                yield ReasoningDelta(str(part.get("text", "")), choice=choice)
            elif part.get("text"):
                yield TextDelta(str(part["text"]), choice=choice)
        reason = finish_reason(candidate.get("finishReason"), self._calls.get(choice, 0) > 0)
        if reason is not None and choice not in self._finished:
            self._finished.add(choice)
            yield Finish(reason, choice=choice)
