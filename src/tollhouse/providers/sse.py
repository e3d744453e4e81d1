"""Server-sent events from an upstream: bytes in, complete events out (the WHATWG framing)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SSEEvent:
    """One event: its ``event:`` name (``None`` when unnamed), joined ``data:`` lines, raw bytes."""

    event: str | None
    data: str
    raw: bytes  # the event as received, with its closing blank line (for relaying unchanged)


class SSEDecoder:
    """Splits a byte stream into events; partial events wait for the next ``feed``."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, data: bytes) -> list[SSEEvent]:
        if b"\r" in data:
            data = data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        buffer = self._buffer + data if self._buffer else data
        end = buffer.rfind(b"\n\n")
        if end < 0:
            self._buffer = buffer
            return []
        complete, self._buffer = buffer[: end + 2], buffer[end + 2 :]
        return [e for block in complete.split(b"\n\n") if block and (e := _parse(block)) is not None]

    def finish(self) -> list[SSEEvent]:
        """The last event when the upstream closed without its blank line."""
        rest, self._buffer = self._buffer.strip(b"\n"), b""
        event = _parse(rest) if rest else None
        return [event] if event is not None else []


def _parse(block: bytes) -> SSEEvent | None:
    name: str | None = None
    data: list[str] = []
    for line in block.split(b"\n"):
        if not line or line.startswith(b":"):
            continue  # a comment or keep-alive
        field, _, value = line.partition(b":")
        if value.startswith(b" "):
            value = value[1:]
        if field == b"data":
            data.append(value.decode("utf-8", "replace"))
        elif field == b"event":
            name = value.decode("utf-8", "replace")
    if not data and name is None:
        return None
    return SSEEvent(name, "\n".join(data), block + b"\n\n")
