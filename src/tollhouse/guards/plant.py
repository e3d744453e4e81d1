"""Planting text in a request's system prompt (the canary), in each surface's format."""

from __future__ import annotations

from typing import Any


def _append(content: Any, line: str) -> Any:
    if isinstance(content, str):
        return f"{content}\n\n{line}" if content else line
    if isinstance(content, list):
        return [*content, {"type": "text", "text": line}]
    return line


def plant_system_line(surface: str, payload: dict[str, Any], line: str) -> bool:
    """Add ``line`` to the system prompt of ``payload`` in place; ``False`` where there is none to have."""
    if surface == "chat":
        messages = payload.get("messages")
        if not isinstance(messages, list):
            return False
        for message in messages:
            if isinstance(message, dict) and message.get("role") in ("system", "developer"):
                message["content"] = _append(message.get("content"), line)
                return True
        messages.insert(0, {"role": "system", "content": line})
        return True
    if surface == "messages":
        payload["system"] = _append(payload.get("system"), line)
        return True
    if surface == "responses":
        instructions = payload.get("instructions")
        payload["instructions"] = (
            f"{instructions}\n\n{line}" if isinstance(instructions, str) and instructions else line
        )
        return True
    return False
