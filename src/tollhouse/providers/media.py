"""Inline media in canonical content: ``data:`` URLs split into media type and base64 data."""

from __future__ import annotations

from dataclasses import dataclass

from tollhouse.errors import InvalidRequest


@dataclass(frozen=True, slots=True)
class InlineData:
    media_type: str
    data: str  # base64, as sent


def parse_data_url(url: str) -> InlineData | None:
    """``data:image/png;base64,AAAA`` → ``InlineData``; ``None`` for any other URL."""
    if not url.startswith("data:"):
        return None
    header, sep, data = url[5:].partition(",")
    if not sep or not header.endswith(";base64"):
        raise InvalidRequest("inline media must be a base64 data: URL", param="messages")
    media_type = header[: -len(";base64")] or "application/octet-stream"
    return InlineData(media_type, data)


def file_data(data: str, default_type: str = "application/pdf") -> InlineData:
    """A file part's data: a ``data:`` URL, or bare base64 taken as ``default_type``."""
    return parse_data_url(data) or InlineData(default_type, data)


def image_format(media_type: str) -> str:
    """``image/png`` → ``png`` (Bedrock names image formats this way)."""
    kind, _, sub = media_type.partition("/")
    if kind != "image" or sub not in ("png", "jpeg", "jpg", "gif", "webp"):
        raise InvalidRequest(f"unsupported image type {media_type!r}", param="messages")
    return "jpeg" if sub == "jpg" else sub
