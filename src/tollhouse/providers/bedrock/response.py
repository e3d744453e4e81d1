"""Bedrock Converse response → canonical chat response (and usage)."""

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
from tollhouse.providers.bedrock.wire import STOP_REASONS
from tollhouse.providers.tool_args import dump_arguments


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def decode_usage(raw: Any) -> Usage | None:
    """Converse ``usage`` → ``Usage``; cache reads and writes are counted apart from
    ``inputTokens`` and belong to the canonical prompt count."""
    if not isinstance(raw, dict):
        return None
    read = raw.get("cacheReadInputTokens")
    write = raw.get("cacheWriteInputTokens")
    return Usage(
        prompt_tokens=_int(raw.get("inputTokens")) + _int(read) + _int(write),
        completion_tokens=_int(raw.get("outputTokens")),
        cached_tokens=read if isinstance(read, int) else None,
        cache_write_tokens=write if isinstance(write, int) else None,
    )


def _reasoning(raw: dict[str, Any]) -> ReasoningPart:
    if "redactedContent" in raw:
        return ReasoningPart(redacted=str(raw["redactedContent"]))
    text = raw.get("reasoningText") or {}
    return ReasoningPart(text=str(text.get("text", "")), signature=text.get("signature"))


def decode_converse(
    body: dict[str, Any], model: str, created: int, json_tool: str | None = None
) -> ChatResponse:
    """A Converse answer as a ``ChatResponse``; the forced JSON-mode tool's input becomes text."""
    message = (body.get("output") or {}).get("message") or {}
    parts: list[ContentPart] = []
    calls: list[ToolCall] = []
    for block in message.get("content") or []:
        if "text" in block:
            parts.append(TextPart(str(block["text"])))
        elif "reasoningContent" in block:
            parts.append(_reasoning(block["reasoningContent"]))
        elif "toolUse" in block:
            use = block["toolUse"]
            if use.get("name") == json_tool:
                parts.append(TextPart(dump_arguments(use.get("input"))))
            else:
                calls.append(
                    ToolCall(
                        str(use.get("toolUseId", "")),
                        str(use.get("name", "")),
                        dump_arguments(use.get("input")),
                    )
                )
    content: str | tuple[ContentPart, ...] | None
    if all(isinstance(p, TextPart) for p in parts):
        content = "".join(p.text for p in parts if isinstance(p, TextPart)) if parts else None
    else:
        content = tuple(parts)
    stop = body.get("stopReason")
    finish = STOP_REASONS.get(stop, "stop") if isinstance(stop, str) else None
    if finish == "tool_calls" and not calls:
        finish = "stop"
    return ChatResponse(
        id="",
        model=model,
        created=created,
        choices=(
            Choice(
                index=0,
                message=Message(role="assistant", content=content, tool_calls=tuple(calls)),
                finish_reason=finish,
            ),
        ),
        usage=decode_usage(body.get("usage")),
    )
