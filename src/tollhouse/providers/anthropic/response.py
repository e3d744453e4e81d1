"""Anthropic Message (non-streaming response) → canonical chat response."""

from __future__ import annotations

from typing import Any

from tollhouse.model.chat import (
    ChatResponse,
    Choice,
    ContentPart,
    Message,
    ReasoningPart,
    TextPart,
    ToolCall,
    Usage,
)
from tollhouse.providers.anthropic.wire import STOP_REASONS
from tollhouse.providers.tool_args import dump_arguments


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def decode_usage(raw: Any) -> Usage | None:
    """Anthropic usage → ``Usage``. Anthropic counts cache reads and writes apart from
    ``input_tokens``; the canonical prompt count (like OpenAI's) includes them."""
    if not isinstance(raw, dict):
        return None
    read = _int(raw.get("cache_read_input_tokens"))
    write = _int(raw.get("cache_creation_input_tokens"))
    return Usage(
        prompt_tokens=_int(raw.get("input_tokens")) + read + write,
        completion_tokens=_int(raw.get("output_tokens")),
        cached_tokens=read if "cache_read_input_tokens" in raw else None,
        cache_write_tokens=write if "cache_creation_input_tokens" in raw else None,
    )


def _content(blocks: list[dict[str, Any]], json_tool: str | None) -> tuple[list[ContentPart], list[ToolCall]]:
    parts: list[ContentPart] = []
    calls: list[ToolCall] = []
    for block in blocks:
        kind = block.get("type")
        if kind == "text":
            parts.append(TextPart(str(block.get("text", ""))))
        elif kind == "thinking":
            parts.append(ReasoningPart(text=str(block.get("thinking", "")), signature=block.get("signature")))
        elif kind == "redacted_thinking":
            parts.append(ReasoningPart(redacted=str(block.get("data", ""))))
        elif kind == "tool_use" and block.get("name") == json_tool:
            parts.append(TextPart(dump_arguments(block.get("input"))))
        elif kind == "tool_use":
            calls.append(
                ToolCall(
                    id=str(block.get("id", "")),
                    name=str(block.get("name", "")),
                    arguments=dump_arguments(block.get("input")),
                )
            )
    return parts, calls


def decode_message(body: dict[str, Any], created: int, json_tool: str | None = None) -> ChatResponse:
    """A Messages API response as a ``ChatResponse`` (``created``: Unix time of the answer);
    ``json_tool`` is the forced JSON-mode tool, whose input becomes the answer's text."""
    parts, calls = _content(body.get("content") or [], json_tool)
    content: str | tuple[ContentPart, ...] | None
    if all(isinstance(p, TextPart) for p in parts):
        content = "".join(p.text for p in parts if isinstance(p, TextPart)) if parts else None
    else:
        content = tuple(parts)
    stop = body.get("stop_reason")
    finish = STOP_REASONS.get(stop, "stop") if isinstance(stop, str) else None
    if json_tool is not None and finish == "tool_calls" and not calls:
        finish = "stop"
    message = Message(role="assistant", content=content, tool_calls=tuple(calls))
    return ChatResponse(
        id=str(body.get("id", "")),
        model=str(body.get("model", "")),
        created=created,
        choices=(Choice(index=0, message=message, finish_reason=finish),),
        usage=decode_usage(body.get("usage")),
    )
