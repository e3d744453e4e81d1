"""Canonical responses and stream events → OpenAI wire bodies."""

from __future__ import annotations

import base64
import struct
from typing import Any

from tollhouse.model.chat import ChatResponse, Message, TokenLogprob, Usage
from tollhouse.model.embeddings import EmbeddingResponse
from tollhouse.model.stream import (
    Finish,
    ReasoningDelta,
    StreamEvent,
    StreamStart,
    TextDelta,
    ToolCallDelta,
    UsageReport,
)


def encode_usage(usage: Usage) -> dict[str, Any]:
    out: dict[str, Any] = {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }
    if usage.cached_tokens is not None:
        out["prompt_tokens_details"] = {"cached_tokens": usage.cached_tokens}
    if usage.reasoning_tokens is not None:
        out["completion_tokens_details"] = {"reasoning_tokens": usage.reasoning_tokens}
    return out


def _logprobs(items: tuple[TokenLogprob, ...] | None) -> dict[str, Any] | None:
    if items is None:
        return None
    return {
        "content": [
            {
                "token": t.token,
                "logprob": t.logprob,
                "bytes": list(t.token.encode()),
                "top_logprobs": [
                    {"token": tok, "logprob": lp, "bytes": list(tok.encode())} for tok, lp in t.top
                ],
            }
            for t in items
        ],
        "refusal": None,
    }


def _message(message: Message) -> dict[str, Any]:
    out: dict[str, Any] = {"role": "assistant", "content": message.content if message.content else None}
    if message.content is not None and not isinstance(message.content, str):
        out["content"] = message.text()
    if message.tool_calls:
        out["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}}
            for c in message.tool_calls
        ]
    out["refusal"] = None
    return out


def encode_chat(response: ChatResponse) -> dict[str, Any]:
    """A ``ChatResponse`` as an OpenAI ``chat.completion`` object."""
    body: dict[str, Any] = {
        "id": response.id,
        "object": "chat.completion",
        "created": response.created,
        "model": response.model,
        "choices": [
            {
                "index": c.index,
                "message": _message(c.message),
                "finish_reason": c.finish_reason,
                "logprobs": _logprobs(c.logprobs),
            }
            for c in response.choices
        ],
        "system_fingerprint": response.system_fingerprint,
    }
    if response.usage is not None:
        body["usage"] = encode_usage(response.usage)
    return body


class ChunkEncoder:
    """Turns canonical stream events into ``chat.completion.chunk`` objects for one stream."""

    __slots__ = ("_base", "_include_usage", "_role_sent")

    def __init__(self, include_usage: bool) -> None:
        self._include_usage = include_usage
        self._base: dict[str, Any] = {"id": "", "object": "chat.completion.chunk", "created": 0, "model": ""}
        self._role_sent: set[int] = set()

    def _chunk(
        self,
        choice: int,
        delta: dict[str, Any],
        finish: str | None = None,
        logprobs: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        if choice not in self._role_sent:
            self._role_sent.add(choice)
            delta = {"role": "assistant", **delta}
        return {
            **self._base,
            "choices": [{"index": choice, "delta": delta, "logprobs": logprobs, "finish_reason": finish}],
        }

    def encode(self, event: StreamEvent) -> dict[str, Any] | None:
        """The chunk for ``event``, or ``None`` when the event produces no chunk."""
        if isinstance(event, StreamStart):
            self._base = {**self._base, "id": event.id, "created": event.created, "model": event.model}
            return None
        if isinstance(event, TextDelta):
            return self._chunk(event.choice, {"content": event.text}, logprobs=_logprobs(event.logprobs))
        if isinstance(event, ReasoningDelta):
            return self._chunk(event.choice, {"reasoning_content": event.text})
        if isinstance(event, ToolCallDelta):
            call: dict[str, Any] = {"index": event.index, "function": {"arguments": event.arguments}}
            if event.id is not None:
                call["id"] = event.id
                call["type"] = "function"
            if event.name is not None:
                call["function"]["name"] = event.name
            return self._chunk(event.choice, {"tool_calls": [call]})
        if isinstance(event, Finish):
            return self._chunk(event.choice, {}, finish=event.reason)
        if isinstance(event, UsageReport):
            if not self._include_usage:
                return None
            return {**self._base, "choices": [], "usage": encode_usage(event.usage)}
        return None


def encode_embeddings(response: EmbeddingResponse, encoding_format: str) -> dict[str, Any]:
    """An ``EmbeddingResponse`` as an OpenAI ``list`` of ``embedding`` objects."""
    data = []
    for i, vector in enumerate(response.vectors):
        value: Any = list(vector)
        if encoding_format == "base64":
            value = base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
        data.append({"object": "embedding", "index": i, "embedding": value})
    return {
        "object": "list",
        "data": data,
        "model": response.model,
        "usage": {"prompt_tokens": response.prompt_tokens, "total_tokens": response.prompt_tokens},
    }
