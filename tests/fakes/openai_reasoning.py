"""A fake OpenAI-compatible reasoning server (DeepSeek-style ``reasoning_content``).

``FakeReasoningOpenAI`` answers like ``FakeOpenAI`` and adds, for every model, the model's
"thinking" before its answer: ``message.reasoning_content`` in JSON answers and
``delta.reasoning_content`` chunks ahead of the content in streams, with
``completion_tokens_details.reasoning_tokens`` and ``prompt_tokens_details.cached_tokens``
filled in usage — the shapes DeepSeek's reasoner and vLLM's reasoning parsers send
(https://api-docs.deepseek.com/guides/reasoning_model).
"""

from __future__ import annotations

import copy
from typing import Any

from aiohttp import web

from .openai_chat import completion_json, plan_chat, stream_chunks, validate_chat
from .openai_payloads import count_tokens, message_text, split_tokens
from .openai_upstream import _CALL, FakeOpenAI

CACHED_TOKENS = 3


def reasoning_for(body: dict[str, Any]) -> str:
    last_user = next((m for m in reversed(body["messages"]) if m.get("role") == "user"), {})
    return f"The user asked: {message_text(last_user)}. I will answer briefly."


def _with_usage_details(usage: dict[str, Any], reasoning: str) -> dict[str, Any]:
    out = copy.deepcopy(usage)
    thinking = count_tokens(reasoning)
    out["completion_tokens"] += thinking
    out["total_tokens"] += thinking
    out["prompt_tokens_details"]["cached_tokens"] = min(CACHED_TOKENS, out["prompt_tokens"])
    out["completion_tokens_details"]["reasoning_tokens"] = thinking
    return out


def _reasoning_stream(chunks: list[dict[str, Any]], reasoning: str) -> list[dict[str, Any]]:
    """The plain stream with reasoning deltas after the role chunk and richer usage at the end."""
    out = [chunks[0]]
    for piece in split_tokens(reasoning):
        chunk = copy.deepcopy(chunks[0])
        chunk["choices"][0]["delta"] = {"reasoning_content": piece}
        out.append(chunk)
    out.extend(chunks[1:])
    if out[-1].get("usage"):
        out[-1]["usage"] = _with_usage_details(out[-1]["usage"], reasoning)
    return out


class FakeReasoningOpenAI(FakeOpenAI):
    """``FakeOpenAI`` whose every answer carries reasoning (no fault injection by model name)."""

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = _CALL.get().rec.json
        validate_chat(body)
        with self._lock:
            self._chat_seq += 1
            seq = self._chat_seq
        plan = plan_chat(body, seq)
        reasoning = reasoning_for(body)
        if body.get("stream") is True:
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = _reasoning_stream(stream_chunks(plan, include_usage), reasoning)
            return await self._stream(request, chunks, False)
        answer = completion_json(plan)
        answer["choices"][0]["message"]["reasoning_content"] = reasoning
        answer["usage"] = _with_usage_details(answer["usage"], reasoning)
        return self._json(answer)
