"""Ollama ``/api/chat`` answers (whole, or one NDJSON line of a stream) → canonical parts."""

from __future__ import annotations

from typing import Any

from tollhouse.model.chat import (
    ChatResponse,
    Choice,
    ContentPart,
    FinishReason,
    Message,
    ReasoningPart,
    TextPart,
    ToolCall,
    Usage,
)
from tollhouse.providers.ollama.wire import DONE_REASONS
from tollhouse.providers.tool_args import dump_arguments


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def decode_usage(body: dict[str, Any]) -> Usage | None:
    """``prompt_eval_count`` / ``eval_count`` (present on the final, ``done`` answer)."""
    if "eval_count" not in body and "prompt_eval_count" not in body:
        return None
    return Usage(
        prompt_tokens=_int(body.get("prompt_eval_count")), completion_tokens=_int(body.get("eval_count"))
    )


def tool_calls(message: dict[str, Any], first: int = 0) -> list[ToolCall]:
    """Ollama's calls carry no ids; ``call_N`` numbers them across the answer."""
    calls = []
    for i, call in enumerate(message.get("tool_calls") or [], start=first):
        fn = call.get("function") or {}
        calls.append(
            ToolCall(
                id=f"call_{i}", name=str(fn.get("name", "")), arguments=dump_arguments(fn.get("arguments"))
            )
        )
    return calls


def finish_reason(body: dict[str, Any], has_calls: bool) -> FinishReason | None:
    if body.get("done") is not True:
        return None
    reason = DONE_REASONS.get(str(body.get("done_reason") or "stop"), "stop")
    return "tool_calls" if has_calls and reason == "stop" else reason


def decode_chat(body: dict[str, Any], model: str, created: int) -> ChatResponse:
    message = body.get("message") or {}
    parts: list[ContentPart] = []
    if message.get("thinking"):
        parts.append(ReasoningPart(text=str(message["thinking"])))
    if message.get("content"):
        parts.append(TextPart(str(message["content"])))
    calls = tool_calls(message)
    content: str | tuple[ContentPart, ...] | None
    if all(isinstance(p, TextPart) for p in parts):
        content = "".join(p.text for p in parts if isinstance(p, TextPart)) if parts else None
    else:
        content = tuple(parts)
    return ChatResponse(
        id="",
        model=str(body.get("model") or model),
        created=created,
        choices=(
            Choice(
                0,
                Message(role="assistant", content=content, tool_calls=tuple(calls)),
                finish_reason(body, bool(calls)),
            ),
        ),
        usage=decode_usage(body),
    )
