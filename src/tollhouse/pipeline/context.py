"""The request context: everything one call carries through the checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tollhouse.identity.principal import Principal
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
    dialect: str = "openai"  # the API format the caller speaks: "openai", "anthropic", …
    client: str = ""  # the peer address (ASGI scope["client"]), e.g. for brute-force throttling
    body: bytes = b""
    payload: dict[str, Any] = field(default_factory=dict)  # decoded body in the caller's dialect
    model: str = ""  # the alias the caller asked for
    stream: bool = False
    principal: Principal | None = None
    provider: str = ""  # the provider name a route chose
    upstream_model: str = ""  # the model name sent to it
    usage: Usage | None = None
    cost: float | None = None  # in USD, when the price is known
    status: int = 0
    error_code: str | None = None
    first_byte_at: float | None = None
    decisions: list[Decision] = field(default_factory=list)
    # W3C trace context: the caller's trace (or a new one) and this gateway span.
    trace_id: str = ""
    span_id: str = ""
    parent_span_id: str | None = None
    session_id: str | None = None  # an agent task: x-tollhouse-session, else the trace id
    # The response as sent (non-streaming), and the stream's bytes when a policy asked for them.
    response_body: bytes | None = None
    capture_stream: bool = False
    stream_capture: list[bytes] | None = None
    # The surface's decoder from its dialect's payload to the canonical request (None: OpenAI chat).
    decoder: Callable[[dict[str, Any]], ChatRequest] | None = None
    _chat: ChatRequest | None = None

    def chat_request(self) -> ChatRequest:
        """The canonical request, decoded on first use (the passthrough lane never needs it)."""
        if self._chat is None:
            if self.decoder is not None:
                self._chat = self.decoder(self.payload)
            else:
                from tollhouse.dialects.openai.decode import decode_chat

                self._chat = decode_chat(self.payload)
        return self._chat
