"""The request context: everything one call carries through the checkpoint."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tollhouse.identity.principal import Principal
from tollhouse.model.chat import ChatRequest, Usage
from tollhouse.pipeline.phases import CallKind

if TYPE_CHECKING:
    from tollhouse.routing.trace import RoutingTrace

if TYPE_CHECKING:
    from tollhouse.http.inflight import Tracked

if TYPE_CHECKING:
    from tollhouse.guards.stream_items import StreamInspector

Receive = Any  # the ASGI receive callable


@dataclass(slots=True)
class Decision:
    """One policy's say on this call, kept for the audit log."""

    policy: str
    outcome: str  # "allow", "deny", "reply", …
    reason: str = ""


@dataclass(slots=True)
class GuardVerdict:
    """One guard's verdict at one stage of this call, for the audit log.

    ``outcome``: allow, block, redact, flag, require_approval — or error / not_run when the
    guard gave no verdict (never counted as a pass)."""

    policy: str
    guard: str
    stage: str  # request, tool_results, response, stream, tool_args
    outcome: str
    score: float = 0.0
    latency_us: int = 0
    reason: str = ""
    dry_run: bool = False


@dataclass(slots=True)
class RequestContext:
    """Per-call state. Built by the surface, filled by policies, read by audit and metrics."""

    request_id: str
    surface: str  # "chat", "embeddings", …
    kind: CallKind
    headers: dict[str, str]  # lower-case names
    receive: Receive
    started: float  # perf_counter
    inflight: Tracked | None = None  # the edge's entry: body deadline, disconnect watch
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
    # Routing: the router's record of targets and attempts (None: the alias has one direct target).
    routing: RoutingTrace | None = None
    # Headers added to the response (x-tollhouse-*, x-ratelimit-*), whatever its status.
    response_headers: list[tuple[bytes, bytes]] | None = None
    cache_key: str | None = None  # set by the response cache on a miss: store the answer under it
    # Guardrails: every guard's verdict, and the inspector a stream's sender feeds (None: unguarded).
    verdicts: list[GuardVerdict] = field(default_factory=list)
    stream_inspector: StreamInspector | None = None
    # The surface's decoder from its dialect's payload to the canonical request (None: OpenAI chat).
    decoder: Callable[[dict[str, Any]], ChatRequest] | None = None
    _chat: ChatRequest | None = None
    payload_rewritten: bool = False  # payload differs from body (audit keeps what was forwarded)

    def payload_changed(self) -> None:
        """A policy rewrote ``payload`` (e.g. redaction): decode it again on next use."""
        self._chat = None
        self.payload_rewritten = True

    def chat_request(self) -> ChatRequest:
        """The canonical request, decoded on first use (the passthrough lane never needs it)."""
        if self._chat is None:
            if self.decoder is not None:
                self._chat = self.decoder(self.payload)
            else:
                from tollhouse.dialects.openai.decode import decode_chat

                self._chat = decode_chat(self.payload)
        return self._chat
