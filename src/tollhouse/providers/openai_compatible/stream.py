"""Relaying an OpenAI-compatible SSE stream: whole events out, usage noted on the way."""

from __future__ import annotations

import orjson

from tollhouse.model.chat import Usage
from tollhouse.providers.openai_compatible.response import decode_usage

_NULL_USAGE = (b'"usage":null', b'"usage": null')


class SSERelay:
    """Splits upstream bytes into complete SSE events and forwards them unchanged.

    It notes the usage chunk, and drops it when only the gateway (not the caller) asked for
    usage. Events are parsed only when they may carry usage, so relaying stays a byte copy.
    """

    __slots__ = ("_buffer", "_keep_usage", "done", "events", "usage")

    def __init__(self, keep_usage: bool) -> None:
        self._keep_usage = keep_usage
        self._buffer = b""
        self.usage: Usage | None = None
        self.done = False
        self.events = 0

    def feed(self, data: bytes) -> bytes:
        """Bytes to send to the caller now: zero or more complete events."""
        buffer = self._buffer + data if self._buffer else data
        if b"\r" in buffer:  # on the joined buffer: a CRLF may be split across two reads
            buffer = buffer.replace(b"\r\n", b"\n")
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._buffer = buffer
            return b""
        complete, self._buffer = buffer[: end + 2], buffer[end + 2 :]
        if b'"usage"' not in complete and b"[DONE]" not in complete:
            self.events += complete.count(b"\n\n")
            return complete
        return b"".join(self._filter(event) for event in complete.split(b"\n\n") if event)

    def finish(self) -> bytes:
        """Whatever is left when the upstream closes (a last event without its blank line)."""
        rest, self._buffer = self._buffer, b""
        return self._filter(rest.rstrip(b"\n")) if rest.strip() else b""

    def _filter(self, event: bytes) -> bytes:
        self.events += 1
        if event.startswith(b"data: [DONE]") or event.startswith(b"data:[DONE]"):
            self.done = True
            return event + b"\n\n"
        if b'"usage"' in event and not any(n in event for n in _NULL_USAGE):
            data = event[event.find(b"{") :]
            try:
                chunk = orjson.loads(data)
            except orjson.JSONDecodeError:
                return event + b"\n\n"
            usage = decode_usage(chunk.get("usage")) if isinstance(chunk, dict) else None
            if usage is not None:
                self.usage = usage
                if not self._keep_usage and not chunk.get("choices"):
                    return b""
        return event + b"\n\n"
