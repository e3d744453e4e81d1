"""OpenAI wire responses → canonical: usage (both lanes) and whole responses (translation)."""

from __future__ import annotations

from typing import Any

from tollhouse.errors import UpstreamUnavailable
from tollhouse.model.chat import (
    ChatResponse,
    Choice,
    ContentPart,
    FinishReason,
    Message,
    ReasoningPart,
    TextPart,
    TokenLogprob,
    ToolCall,
    Usage,
)

_FINISH: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",  # the legacy name
    "content_filter": "content_filter",
}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def decode_usage(raw: Any) -> Usage | None:
    """An OpenAI ``usage`` object as ``Usage``; ``None`` when absent or malformed."""
    if not isinstance(raw, dict):
        return None
    prompt_details = raw.get("prompt_tokens_details") or {}
    completion_details = raw.get("completion_tokens_details") or {}
    cached = prompt_details.get("cached_tokens") if isinstance(prompt_details, dict) else None
    reasoning = completion_details.get("reasoning_tokens") if isinstance(completion_details, dict) else None
    return Usage(
        prompt_tokens=_int(raw.get("prompt_tokens")),
        completion_tokens=_int(raw.get("completion_tokens")),
        cached_tokens=cached if isinstance(cached, int) else None,
        reasoning_tokens=reasoning if isinstance(reasoning, int) else None,
    )


def decode_finish(raw: Any) -> FinishReason | None:
    """A ``finish_reason``; unknown non-null values count as a normal stop."""
    if raw is None:
        return None
    return _FINISH.get(raw, "stop") if isinstance(raw, str) else "stop"


def reasoning_text(raw: dict[str, Any]) -> str:
    """Reasoning a compatible server exposes: ``reasoning_content`` (DeepSeek, vLLM) or ``reasoning``."""
    value = raw.get("reasoning_content")
    if not isinstance(value, str):
        value = raw.get("reasoning")
    return value if isinstance(value, str) else ""


def decode_logprobs(raw: Any) -> tuple[TokenLogprob, ...] | None:
    content = raw.get("content") if isinstance(raw, dict) else None
    if not isinstance(content, list):
        return None
    return tuple(
        TokenLogprob(
            token=str(t.get("token", "")),
            logprob=float(t.get("logprob", 0.0)),
            top=tuple(
                (str(a.get("token", "")), float(a.get("logprob", 0.0)))
                for a in t.get("top_logprobs") or ()
                if isinstance(a, dict)
            ),
        )
        for t in content
        if isinstance(t, dict)
    )


def _tool_calls(raw: Any) -> tuple[ToolCall, ...]:
    calls = []
    for call in raw if isinstance(raw, list) else ():
        fn = call.get("function") if isinstance(call, dict) else None
        if isinstance(fn, dict) and isinstance(fn.get("name"), str):
            arguments = fn.get("arguments")
            calls.append(
                ToolCall(
                    id=str(call.get("id") or ""),
                    name=fn["name"],
                    arguments=arguments if isinstance(arguments, str) else "",
                )
            )
    return tuple(calls)


def _message(raw: dict[str, Any]) -> Message:
    text = raw.get("content")
    if not isinstance(text, str):
        text = raw.get("refusal") if isinstance(raw.get("refusal"), str) else None
    reasoning = reasoning_text(raw)
    content: str | tuple[ContentPart, ...] | None = text
    if reasoning:
        content = (ReasoningPart(text=reasoning), *((TextPart(text),) if text else ()))
    return Message(role="assistant", content=content, tool_calls=_tool_calls(raw.get("tool_calls")))


def decode_response(raw: Any, provider: str) -> ChatResponse:
    """A ``chat.completion`` body as a ``ChatResponse``; a body without choices is the upstream's fault."""
    choices = raw.get("choices") if isinstance(raw, dict) else None
    if not isinstance(choices, list) or not choices:
        raise UpstreamUnavailable(f"provider {provider} returned a completion without choices")
    decoded = []
    for i, choice in enumerate(choices):
        if not isinstance(choice, dict) or not isinstance(choice.get("message"), dict):
            raise UpstreamUnavailable(f"provider {provider} returned a choice without a message")
        decoded.append(
            Choice(
                index=_int(choice.get("index", i)),
                message=_message(choice["message"]),
                finish_reason=decode_finish(choice.get("finish_reason")) or "stop",
                logprobs=decode_logprobs(choice.get("logprobs")),
            )
        )
    fingerprint = raw.get("system_fingerprint")
    return ChatResponse(
        id=str(raw.get("id") or ""),
        model=str(raw.get("model") or ""),
        created=_int(raw.get("created")),
        choices=tuple(decoded),
        usage=decode_usage(raw.get("usage")),
        system_fingerprint=fingerprint if isinstance(fingerprint, str) else None,
    )
