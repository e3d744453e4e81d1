"""A cached answer as stored: the bytes the caller got, their content type, when it was stored."""

from __future__ import annotations

import struct
from dataclasses import dataclass

_HEADER = struct.Struct("!4sdH")  # magic, stored at (epoch seconds), content-type length
_MAGIC = b"THC1"


@dataclass(frozen=True, slots=True)
class CachedAnswer:
    """A response body (JSON, or a whole SSE stream) exactly as it was sent."""

    body: bytes
    content_type: bytes
    stored_at: float  # time.time()

    def encode(self) -> bytes:
        return _HEADER.pack(_MAGIC, self.stored_at, len(self.content_type)) + self.content_type + self.body

    @staticmethod
    def decode(data: bytes) -> CachedAnswer | None:
        """The answer, or ``None`` for bytes that are not one (another version, a foreign key)."""
        if len(data) < _HEADER.size:
            return None
        magic, stored_at, type_len = _HEADER.unpack_from(data)
        if magic != _MAGIC:
            return None
        start = _HEADER.size + type_len
        return CachedAnswer(data[start:], data[_HEADER.size : start], stored_at)
