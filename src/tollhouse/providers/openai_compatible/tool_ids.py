"""Tool call ids for providers that only take ids of one shape (Mistral: nine letters or digits).

A conversation's ids come from whoever made its tool calls: OpenAI's ``call_…``, another
provider's before a fallback, the caller's own. Such a provider refuses the whole request
over one of them, so an id of another shape is replaced, in the assistant's call and in the
tool result answering it alike, by a digest of itself: the same id maps the same way on every
request of the conversation, and two ids collide with a chance of one in 62**9.
"""

from __future__ import annotations

import hashlib
import string
from typing import Any

_ALPHABET = string.ascii_letters + string.digits


def reshaped_ids(messages: Any, size: int) -> Any:
    """``messages`` (Chat Completions wire shape) with every tool call id in ``size`` letters or
    digits. The caller's message dicts are copied where changed, never edited."""
    if not isinstance(messages, list):
        return messages
    out: list[Any] = []
    for message in messages:
        if isinstance(message, dict):
            calls = message.get("tool_calls")
            if isinstance(calls, list) and calls:
                calls = [_with_id(call, "id", size) for call in calls]
                message = {**message, "tool_calls": calls}
            if message.get("role") == "tool":
                message = _with_id(message, "tool_call_id", size)
        out.append(message)
    return out


def _with_id(item: Any, key: str, size: int) -> Any:
    if not isinstance(item, dict):
        return item
    value = item.get(key)
    if not isinstance(value, str) or _fits(value, size):
        return item
    return {**item, key: reshape(value, size)}


def _fits(value: str, size: int) -> bool:
    return len(value) == size and value.isascii() and value.isalnum()


def reshape(value: str, size: int) -> str:
    """``value`` as ``size`` letters and digits: itself if it already is, else its digest."""
    if _fits(value, size):
        return value
    number = int.from_bytes(hashlib.sha256(value.encode()).digest())
    chars = []
    for _ in range(size):
        number, digit = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[digit])
    return "".join(chars)
