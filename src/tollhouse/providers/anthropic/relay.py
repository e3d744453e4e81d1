"""The passthrough lane's stream: Anthropic events relayed unchanged, usage noted on the way."""

from __future__ import annotations

import orjson

from tollhouse.model.chat import Usage
from tollhouse.providers.anthropic.stream import UsageTracker
from tollhouse.providers.sse import SSEDecoder, SSEEvent


class MessagesRelay:
    """Splits upstream bytes into complete events; parses only those that carry usage."""

    __slots__ = ("_decoder", "_usage", "done")

    def __init__(self) -> None:
        self._decoder = SSEDecoder()
        self._usage = UsageTracker()
        self.done = False

    @property
    def usage(self) -> Usage | None:
        return self._usage.usage

    def feed(self, data: bytes) -> bytes:
        """Complete events to send to the caller now (possibly none)."""
        return self._relay(self._decoder.feed(data))

    def finish(self) -> bytes:
        return self._relay(self._decoder.finish())

    def _relay(self, events: list[SSEEvent]) -> bytes:
        out = []
        for event in events:
            if event.event in ("message_start", "message_delta"):
                try:
                    parsed = orjson.loads(event.data)
                except orjson.JSONDecodeError:
                    parsed = None
                if isinstance(parsed, dict):
                    self._usage.note(parsed)
            elif event.event == "message_stop":
                self.done = True
            out.append(event.raw)
        return b"".join(out)
