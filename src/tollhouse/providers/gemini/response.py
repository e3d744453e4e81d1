"""Gemini ``GenerateContentResponse`` → canonical chat response (and usage, finish reasons)."""

from __future__ import annotations

from typing import Any

from tollhouse.errors import UpstreamError
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
from tollhouse.providers.gemini.errors import blocked_prompt
from tollhouse.providers.gemini.wire import FINISH_REASONS, SIGNATURE_SEPARATOR
from tollhouse.providers.tool_args import dump_arguments


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def decode_usage(raw: Any) -> Usage | None:
    """``usageMetadata`` → ``Usage``. Gemini counts thoughts apart from the candidates; the
    canonical completion count (like OpenAI's) includes reasoning."""
    if not isinstance(raw, dict):
        return None
    thoughts = raw.get("thoughtsTokenCount")
    cached = raw.get("cachedContentTokenCount")
    return Usage(
        prompt_tokens=_int(raw.get("promptTokenCount")) + _int(raw.get("toolUsePromptTokenCount")),
        completion_tokens=_int(raw.get("candidatesTokenCount")) + _int(thoughts),
        cached_tokens=cached if isinstance(cached, int) else None,
        reasoning_tokens=thoughts if isinstance(thoughts, int) else None,
    )


def call_id(part: dict[str, Any], index: int, response_id: str) -> str:
    """A tool call id: Gemini's own when it gives one, with its thought signature appended."""
    call = part.get("functionCall") or {}
    given = call.get("id")
    if isinstance(given, str) and given:
        base = given
    else:
        base = f"call_{response_id}_{index}" if response_id else f"call_{index}"
    signature = part.get("thoughtSignature")
    return f"{base}{SIGNATURE_SEPARATOR}{signature}" if isinstance(signature, str) and signature else base


def finish_reason(raw: Any, has_calls: bool) -> FinishReason | None:
    if not isinstance(raw, str):
        return None
    reason = FINISH_REASONS.get(raw, "stop")
    return "tool_calls" if reason == "stop" and has_calls else reason


def _logprobs(raw: Any) -> tuple[TokenLogprob, ...] | None:
    if not isinstance(raw, dict):
        return None
    chosen = raw.get("chosenCandidates") or []
    tops = raw.get("topCandidates") or []
    out = []
    for i, item in enumerate(chosen):
        top = tops[i].get("candidates", []) if i < len(tops) and isinstance(tops[i], dict) else []
        alternatives = tuple((str(t.get("token", "")), float(t.get("logProbability", 0.0))) for t in top)
        out.append(
            TokenLogprob(str(item.get("token", "")), float(item.get("logProbability", 0.0)), alternatives)
        )
    return tuple(out)


def _choice(candidate: dict[str, Any], position: int, response_id: str) -> Choice:
    parts: list[ContentPart] = []
    calls: list[ToolCall] = []
    for part in (candidate.get("content") or {}).get("parts") or []:
        if "functionCall" in part:
            call = part["functionCall"]
            calls.append(
                ToolCall(
                    call_id(part, len(calls), response_id),
                    str(call.get("name", "")),
                    dump_arguments(call.get("args")),
                )
            )
        elif part.get("thought") is True:
            parts.append(ReasoningPart(text=str(part.get("text", ""))))
        elif "text" in part:
            parts.append(TextPart(str(part["text"])))
    content: str | tuple[ContentPart, ...] | None
    if all(isinstance(p, TextPart) for p in parts):
        content = "".join(p.text for p in parts if isinstance(p, TextPart)) if parts else None
    else:
        content = tuple(parts)
    index = candidate.get("index")
    return Choice(
        index=index if isinstance(index, int) else position,
        message=Message(role="assistant", content=content, tool_calls=tuple(calls)),
        finish_reason=finish_reason(candidate.get("finishReason"), bool(calls)),
        logprobs=_logprobs(candidate.get("logprobsResult")),
    )


def decode_response(body: dict[str, Any], model: str, created: int, provider: str) -> ChatResponse:
    """A ``generateContent`` answer as a ``ChatResponse``; a blocked prompt raises."""
    error: UpstreamError | None = blocked_prompt(body, provider)
    if error is not None:
        raise error
    response_id = str(body.get("responseId") or "")
    candidates = body.get("candidates") or []
    return ChatResponse(
        id=response_id,
        model=str(body.get("modelVersion") or model),
        created=created,
        choices=tuple(_choice(c, i, response_id) for i, c in enumerate(candidates)),
        usage=decode_usage(body.get("usageMetadata")),
    )
