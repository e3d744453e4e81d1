"""Cohere v2 chat response → canonical chat response (and usage)."""

from __future__ import annotations

from typing import Any

from tollhouse.model.chat import (
    ChatResponse,
    Choice,
    ContentPart,
    Message,
    ReasoningPart,
    TextPart,
    TokenLogprob,
    ToolCall,
    Usage,
)
from tollhouse.providers.cohere.wire import FINISH_REASONS


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def decode_usage(raw: Any) -> Usage | None:
    """``usage.billed_units`` (what Cohere charges; budgets and costs follow it) → ``Usage``;
    ``usage.tokens`` (which also counts the prompt template) when no billing units came."""
    if not isinstance(raw, dict):
        return None
    tokens = raw.get("billed_units") if isinstance(raw.get("billed_units"), dict) else raw.get("tokens")
    if not isinstance(tokens, dict):
        return None
    cached = raw.get("cached_tokens")
    return Usage(
        prompt_tokens=_int(tokens.get("input_tokens")),
        completion_tokens=_int(tokens.get("output_tokens")),
        cached_tokens=cached if isinstance(cached, int) else None,
    )


def _calls(raw: Any) -> tuple[ToolCall, ...]:
    calls = []
    for call in raw or []:
        fn = call.get("function") or {}
        calls.append(
            ToolCall(str(call.get("id", "")), str(fn.get("name", "")), str(fn.get("arguments") or "{}"))
        )
    return tuple(calls)


def _logprobs(raw: Any) -> tuple[TokenLogprob, ...] | None:
    if not isinstance(raw, list):
        return None
    return tuple(
        TokenLogprob(str(item.get("text", "")), float(lp))
        for item in raw
        if isinstance(item, dict)
        for lp in (item.get("logprobs") or [])[:1]
    )


def decode_chat(body: dict[str, Any], model: str, created: int) -> ChatResponse:
    message = body.get("message") or {}
    parts: list[ContentPart] = []
    plan = message.get("tool_plan")
    if isinstance(plan, str) and plan:
        parts.append(ReasoningPart(text=plan))
    for block in message.get("content") or []:
        if block.get("type") == "text":
            parts.append(TextPart(str(block.get("text", ""))))
        elif block.get("type") == "thinking":
            parts.append(ReasoningPart(text=str(block.get("thinking", ""))))
    content: str | tuple[ContentPart, ...] | None
    if all(isinstance(p, TextPart) for p in parts):
        content = "".join(p.text for p in parts if isinstance(p, TextPart)) if parts else None
    else:
        content = tuple(parts)
    reason = body.get("finish_reason")
    finish = FINISH_REASONS.get(reason, "stop") if isinstance(reason, str) else None
    return ChatResponse(
        id=str(body.get("id", "")),
        model=model,
        created=created,
        choices=(
            Choice(
                index=0,
                message=Message(
                    role="assistant", content=content, tool_calls=_calls(message.get("tool_calls"))
                ),
                finish_reason=finish,
                logprobs=_logprobs(body.get("logprobs")),
            ),
        ),
        usage=decode_usage(body.get("usage")),
    )
