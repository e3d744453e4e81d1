"""Canonical responses → Anthropic ``message`` objects (the non-streaming answer)."""

from __future__ import annotations

from typing import Any

import orjson

from tollhouse.errors import UpstreamUnavailable
from tollhouse.model.chat import ChatResponse, FinishReason, ReasoningPart, TextPart, ToolCall, Usage

_STOP_REASONS: dict[FinishReason | None, str] = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
    "error": "end_turn",
    None: "end_turn",
}


def stop_reason(finish: FinishReason | None) -> str:
    return _STOP_REASONS.get(finish, "end_turn")


def encode_usage(usage: Usage | None) -> dict[str, Any]:
    """Anthropic counts cache reads and writes apart from ``input_tokens``; we count them inside.
    Reasoning tokens stay inside ``output_tokens``; ``output_tokens_details`` breaks them out."""
    if usage is None:
        usage = Usage()
    cached = usage.cached_tokens or 0
    written = usage.cache_write_tokens or 0
    out: dict[str, Any] = {
        "input_tokens": max(0, usage.prompt_tokens - cached - written),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
        "output_tokens": usage.completion_tokens,
    }
    if usage.reasoning_tokens is not None:
        out["output_tokens_details"] = {"thinking_tokens": usage.reasoning_tokens}
    return out


def tool_input(call: ToolCall) -> dict[str, Any]:
    """A call's JSON arguments as the object Anthropic's ``tool_use.input`` must be."""
    if not call.arguments.strip():
        return {}
    try:
        value = orjson.loads(call.arguments)
    except orjson.JSONDecodeError:
        raise UpstreamUnavailable(f"the model's arguments for tool {call.name} are not JSON") from None
    if not isinstance(value, dict):
        raise UpstreamUnavailable(f"the model's arguments for tool {call.name} are not a JSON object")
    return value


def thinking_block(part: ReasoningPart) -> dict[str, Any]:
    if part.redacted is not None:
        return {"type": "redacted_thinking", "data": part.redacted}
    # Providers without signatures (OpenAI-compatible reasoning) leave it empty.
    return {"type": "thinking", "thinking": part.text, "signature": part.signature or ""}


def encode_message(response: ChatResponse) -> dict[str, Any]:
    """A ``ChatResponse`` (its first choice: Anthropic has no ``n``) as a ``message`` object."""
    choice = response.choices[0]
    message = choice.message
    content: list[dict[str, Any]] = []
    if isinstance(message.content, str):
        if message.content:
            content.append({"type": "text", "text": message.content})
    elif message.content is not None:
        for part in message.content:
            if isinstance(part, ReasoningPart):
                content.append(thinking_block(part))
            elif isinstance(part, TextPart) and part.text:
                content.append({"type": "text", "text": part.text})
    for call in message.tool_calls:
        content.append({"type": "tool_use", "id": call.id, "name": call.name, "input": tool_input(call)})
    return {
        "id": response.id,
        "type": "message",
        "role": "assistant",
        "model": response.model,
        "content": content,
        "stop_reason": stop_reason(choice.finish_reason),
        "stop_sequence": None,
        "usage": encode_usage(response.usage),
    }
