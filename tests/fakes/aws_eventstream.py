"""Writing AWS event-stream frames (``application/vnd.amazon.eventstream``), as Bedrock sends them.

Our own writer, independent of the botocore decoder the gateway uses, so the two check each
other. Frame: total length (u32), headers length (u32), prelude CRC32, headers, payload,
message CRC32; a header is name length (u8), name, type 7 (string), value length (u16), value.
Spec: https://docs.aws.amazon.com/transcribe/latest/dg/event-stream.html (shared by every
AWS streaming API).
"""

from __future__ import annotations

import binascii
import struct
from typing import Any

import orjson


def _header(name: str, value: str) -> bytes:
    raw_name, raw_value = name.encode(), value.encode()
    return struct.pack(">B", len(raw_name)) + raw_name + struct.pack(">BH", 7, len(raw_value)) + raw_value


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    block = b"".join(_header(k, v) for k, v in headers.items())
    prelude = struct.pack(">II", 12 + len(block) + len(payload) + 4, len(block))
    head = prelude + struct.pack(">I", binascii.crc32(prelude)) + block + payload
    return head + struct.pack(">I", binascii.crc32(head))


def event(event_type: str, data: dict[str, Any]) -> bytes:
    """A ConverseStream event (``:message-type: event``) with a JSON payload."""
    headers = {":event-type": event_type, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, orjson.dumps(data))


def exception(exception_type: str, message: str) -> bytes:
    headers = {
        ":exception-type": exception_type,
        ":content-type": "application/json",
        ":message-type": "exception",
    }
    return frame(headers, orjson.dumps({"message": message}))


def transcript(items: list[dict[str, Any]]) -> bytes:
    """A stream from its JSON description: ``{"event": type, "data": {...}}`` or
    ``{"exception": type, "message": text}``, or ``{"raw_hex": ...}`` for corrupt bytes."""
    out = []
    for item in items:
        if "event" in item:
            out.append(event(item["event"], item["data"]))
        elif "exception" in item:
            out.append(exception(item["exception"], item["message"]))
        else:
            out.append(bytes.fromhex(item["raw_hex"]))
    return b"".join(out)
