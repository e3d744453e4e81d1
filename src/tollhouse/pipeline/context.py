"""The request context: everything one call carries through the checkpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from tollhouse.model.chat import ChatRequest, Usage
from tollhouse.pipeline.phases import CallKind

Receive = Any  # the ASGI receive callable


@dataclass(slots=True)
class Decision:
    """One policy's say on this call, kept for the audit log."""

    policy: str
    outcome: str  # "allow", "deny", "reply", …
    reason: str = ""


@dataclass(slots=True)
class RequestContext:
    """Per-call state. Built by the surface, filled by policies, read by audit and metrics."""

    request_id: str
    surface: str  # "chat", "embeddings", …
    kind: CallKind
    headers: dict[str, str]  # lower-case names
    receive: Receive
    started: float  # perf_counter
    body: bytes = b""
    payload: dict[str, Any] = field(default_factory=dict)  # decoded body in the caller's dialect
    model: str = ""  # the alias the caller asked for
    stream: bool = False
    principal: str | None = None
    provider: str = ""
    usage: Usage | None = None
    status: int = 0
    error_code: str | None = None
    first_byte_at: float | None = None
    decisions: list[Decision] = field(default_factory=list)
    _chat: ChatRequest | None = None

    def chat_request(self) -> ChatRequest:
        """The canonical request, decoded on first use (the passthrough lane never needs it)."""
        if self._chat is None:
            from tollhouse.dialects.openai.decode import decode_chat

            self._chat = decode_chat(self.payload)
        return self._chat
