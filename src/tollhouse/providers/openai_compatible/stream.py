"""OpenAI-compatible SSE streams: relayed unchanged (passthrough) or decoded into canonical events."""

from __future__ import annotations

from typing import Any

import orjson

from tollhouse.errors import UpstreamUnavailable
from tollhouse.model.chat import ChatRequest, ChatResponse, Usage
from tollhouse.model.stream import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.openai_compatible.response import (
    decode_finish,
    decode_logprobs,
    decode_usage,
    reasoning_text,
)
from tollhouse.providers.sse import SSEDecoder

_USAGE_KEY = b'"usage"'


def _ends(events: bytes) -> bool:
    """Whether ``events`` hold the ``[DONE]`` event. Searched from the end, where it is; it
    counts only as a line's start (JSON text cannot hold a raw newline, so a model writing
    "data: [DONE]" in its content never matches)."""
    at = events.rfind(b"[DONE]")
    if at < 0:
        return False
    line = events.rfind(b"\n", 0, at) + 1
    return events[line:at].rstrip(b" ") == b"data:"


class SSERelay:
    """Splits upstream bytes into complete SSE events and forwards them unchanged.

    It notes the usage chunk, and drops it when only the gateway (not the caller) asked for
    usage. Relaying stays a byte copy: complete events go out as one slice, and only an
    event that carries a non-null ``"usage"`` is parsed (found with ``bytes.find``, never by
    splitting every event), so a read costs a few scans in C however many events it holds.
    """

    __slots__ = ("_buffer", "_event_bytes", "_keep_usage", "_relayed", "done", "usage")

    def __init__(self, keep_usage: bool) -> None:
        self._keep_usage = keep_usage
        self._buffer = b""
        self.usage: Usage | None = None
        self.done = False
        # For a stream cut before its usage report: bytes of complete events relayed, and the
        # size of the latest one. Counting events instead (bytes.count) scans every byte
        # relayed, a few µs per stream that only a cut stream would ever use.
        self._relayed = 0
        self._event_bytes = 0

    def used(self, prompt_tokens: int) -> Usage:
        """The upstream's usage, else an estimate for a stream that broke off before reporting
        it: OpenAI-compatible servers stream about one token per event, and their events are
        of about one size, so the events relayed are counted as bytes relayed over the latest
        event's size (the first, a role-only delta, is not a token)."""
        if self.usage is not None:
            return self.usage
        events = -(-self._relayed // self._event_bytes) if self._event_bytes else 0
        return Usage(prompt_tokens=prompt_tokens, completion_tokens=max(events - 1, 0))

    def feed(self, data: bytes) -> bytes:
        """Bytes to send to the caller now: zero or more complete events."""
        buffer = self._buffer + data if self._buffer else data
        if b"\r" in buffer:  # on the joined buffer: a CRLF may be split across two reads
            buffer = buffer.replace(b"\r\n", b"\n")
        end = buffer.rfind(b"\n\n") + 2
        if end == 1:  # no complete event yet
            self._buffer = buffer
            return b""
        if end == len(buffer):
            complete, self._buffer = buffer, b""
        else:
            complete, self._buffer = buffer[:end], buffer[end:]
        self._relayed += len(complete)
        # The latest read's last event is the yardstick: a content event, unlike the first.
        last = complete.rfind(b"\n\n", 0, len(complete) - 2)
        self._event_bytes = len(complete) - (last + 2 if last >= 0 else 0)
        return self._scan(complete)

    def finish(self) -> bytes:
        """Whatever is left when the upstream closes (a last event without its blank line)."""
        rest, self._buffer = self._buffer, b""
        return self._scan(rest.rstrip(b"\n") + b"\n\n") if rest.strip() else b""

    def _scan(self, complete: bytes) -> bytes:
        if not self.done and _ends(complete):
            self.done = True
        # From the end: the usage report is the stream's last chunk before [DONE], so in the
        # common case this finds it without scanning the content before it.
        at = complete.rfind(_USAGE_KEY)
        while at >= 0:
            head = complete[at + len(_USAGE_KEY) : at + len(_USAGE_KEY) + 12].lstrip(b" \t")
            # A report is the key followed by an object: not "usage": null, nor a string
            # "usage" as the value of some other field.
            if head.startswith(b":") and head[1:].lstrip(b" \t").startswith(b"{"):
                newline = complete.rfind(b"\n\n", 0, at)
                start = newline + 2 if newline >= 0 else 0
                stop = complete.find(b"\n\n", at)
                stop = len(complete) if stop < 0 else stop + 2
                reported, drop = self._take_usage(complete[start:stop])
                if drop:
                    complete = complete[:start] + complete[stop:]
                if reported:
                    break  # the latest report in this read is the one that counts
            at = complete.rfind(_USAGE_KEY, 0, at)
        return complete

    def _take_usage(self, event: bytes) -> tuple[bool, bool]:
        """Note the usage this event reports: (reported, the event is to be dropped)."""
        try:
            chunk = orjson.loads(event[event.find(b"{") :])
        except orjson.JSONDecodeError:
            return False, False
        usage = decode_usage(chunk.get("usage")) if isinstance(chunk, dict) else None
        if usage is None:
            return False, False
        self.usage = usage
        return True, not self._keep_usage and not chunk.get("choices")


def estimate_tokens(chars: int) -> int:
    """About four characters a token: the count used when an upstream reports no usage."""
    return (chars + 3) // 4


def estimate_prompt_tokens(request: ChatRequest) -> int:
    chars = sum(len(m.text()) + 16 for m in request.messages)
    chars += sum(len(t.name) + len(orjson.dumps(t.parameters or {})) for t in request.tools)
    return estimate_tokens(chars)


def cut_usage(relay: SSERelay, ctx: RequestContext) -> Usage:
    """What a relayed stream that broke off (client gone, upstream failed) has used so far."""
    try:
        prompt = estimate_prompt_tokens(ctx.chat_request())
    except Exception:  # never let the estimate replace the error that ended the stream
        prompt = 0
    return relay.used(prompt)


def estimate_usage(request: ChatRequest, response: ChatResponse) -> Usage:
    """Usage counted from the texts, for an upstream that reported none."""
    chars = 0
    for choice in response.choices:
        message = choice.message
        chars += len(message.text()) + sum(len(c.name) + len(c.arguments) for c in message.tool_calls)
    return Usage(prompt_tokens=estimate_prompt_tokens(request), completion_tokens=estimate_tokens(chars))


class StreamDecoder:
    """An OpenAI-compatible SSE stream → canonical stream events, for callers of other dialects.

    ``feed`` takes bytes as they arrive and returns the events they complete; ``finish``
    returns the usage report — the upstream's, or counted from the stream when the upstream
    sent none — and raises if the stream ended before its end.
    """

    __slots__ = ("_chars", "_prompt_tokens", "_provider", "_seen_tools", "_sse", "_started", "done", "usage")

    def __init__(self, provider: str, prompt_tokens: int) -> None:
        self._provider = provider
        self._prompt_tokens = prompt_tokens
        self._sse = SSEDecoder()
        self._started = False
        self._seen_tools: set[tuple[int, int]] = set()
        self._chars = 0
        self.done = False
        self.usage: Usage | None = None

    def feed(self, frame: bytes) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for sse in self._sse.feed(frame):
            self._event(sse.data, events)
        return events

    def finish(self) -> list[StreamEvent]:
        events: list[StreamEvent] = []
        for sse in self._sse.finish():
            self._event(sse.data, events)
        if not self.done:
            raise UpstreamUnavailable(f"provider {self._provider} ended the stream early")
        self.usage = self.used()
        events.append(UsageReport(self.usage))
        return events

    def used(self) -> Usage:
        """The upstream's usage, else the count so far (also for a stream that broke off)."""
        if self.usage is not None:
            return self.usage
        return Usage(prompt_tokens=self._prompt_tokens, completion_tokens=estimate_tokens(self._chars))

    def _event(self, data: str, out: list[StreamEvent]) -> None:
        if data.startswith("[DONE]"):
            self.done = True
            return
        try:
            chunk = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise UpstreamUnavailable(
                f"provider {self._provider} sent a stream event that is not JSON"
            ) from None
        if not isinstance(chunk, dict):
            return
        error = chunk.get("error")
        if error is not None:
            message = error.get("message") if isinstance(error, dict) else error
            raise UpstreamUnavailable(f"provider {self._provider} failed mid-stream: {str(message)[:500]}")
        if not self._started:
            self._started = True
            created = chunk.get("created")
            out.append(
                StreamStart(
                    id=str(chunk.get("id") or ""),
                    model=str(chunk.get("model") or ""),
                    created=created if isinstance(created, int) else 0,
                )
            )
        for choice in chunk.get("choices") or ():
            if isinstance(choice, dict):
                self._choice(choice, out)
        usage = decode_usage(chunk.get("usage"))
        if usage is not None:
            self.usage = usage

    def _choice(self, raw: dict[str, Any], out: list[StreamEvent]) -> None:
        index = raw.get("index")
        choice = index if isinstance(index, int) else 0
        delta = raw.get("delta")
        if isinstance(delta, dict):
            reasoning = reasoning_text(delta)
            if reasoning:
                self._chars += len(reasoning)
                out.append(ReasoningDelta(reasoning, choice=choice))
            text = delta.get("content")
            if isinstance(text, str) and text:
                self._chars += len(text)
                out.append(TextDelta(text, choice=choice, logprobs=decode_logprobs(raw.get("logprobs"))))
            for position, call in enumerate(delta.get("tool_calls") or ()):
                if isinstance(call, dict):
                    out.append(self._tool_delta(call, position, choice))
        finish = decode_finish(raw.get("finish_reason"))
        if finish is not None:
            self.done = True  # a finished answer is complete even if [DONE] never comes
            out.append(Finish(finish, choice=choice))

    def _tool_delta(self, call: dict[str, Any], position: int, choice: int) -> ToolCallDelta:
        index = call.get("index")
        index = index if isinstance(index, int) else position
        fn = call.get("function")
        fn = fn if isinstance(fn, dict) else {}
        arguments = fn.get("arguments")
        arguments = arguments if isinstance(arguments, str) else ""
        self._chars += len(arguments)
        if (choice, index) in self._seen_tools:  # some servers repeat the id on every piece
            return ToolCallDelta(index=index, arguments=arguments, choice=choice)
        self._seen_tools.add((choice, index))
        name = fn.get("name")
        return ToolCallDelta(
            index=index,
            arguments=arguments,
            id=str(call.get("id") or f"call_{choice}_{index}"),
            name=name if isinstance(name, str) else "",
            choice=choice,
        )
