"""Typed audit events: what happened at a decision point, as the chain records it.

An event never holds content (prompts, completions, tool payloads) or a secret: content is
referenced by digest (``ContentRef``) and the principal by ids (``PrincipalRef``). Numbers
are integers (micro-USD, microseconds) so a record's canonical form is unambiguous.
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from tollhouse.identity.principal import Principal

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DetailValue = str | int | bool | None | list[Any] | dict[str, Any]  # JSON without floats


class EventType(StrEnum):
    LLM_REQUEST = "llm.request"
    LLM_RESPONSE = "llm.response"
    POLICY_DECISION = "policy.decision"
    GUARD_VERDICT = "guard.verdict"
    AUTH_FAILURE = "auth.failure"
    LIMIT_REJECTED = "limit.rejected"
    ADMIN_CHANGE = "admin.change"
    MCP_CALL = "mcp.call"
    A2A_MESSAGE = "a2a.message"
    TOOL_CALL = "tool.call"
    # The chain's own bookkeeping, chained like every other record.
    CHAIN_START = "chain.start"
    CHAIN_CLOSE = "chain.close"
    AUDIT_DROPPED = "audit.dropped"


@dataclass(frozen=True, slots=True)
class PrincipalRef:
    """Who acted: ids only, never a key. ``delegation`` is outermost first."""

    kind: str
    id: str
    org_id: str | None = None
    team_id: str | None = None
    key_id: str | None = None
    delegation: tuple[str, ...] = ()

    @classmethod
    def of(cls, principal: Principal) -> PrincipalRef:
        return cls(
            principal.kind,
            principal.id,
            principal.org_id,
            principal.team_id,
            principal.key_id,
            principal.delegation_chain,
        )

    @property
    def agent(self) -> str | None:
        """The agent that acted, if an agent did."""
        return self.id if self.kind == "agent" else None

    def to_json(self) -> dict[str, Any]:
        return _compact(
            {
                "kind": self.kind,
                "id": self.id,
                "org": self.org_id,
                "team": self.team_id,
                "key_id": self.key_id,
                "delegation": list(self.delegation),
            }
        )


@dataclass(frozen=True, slots=True)
class Verdict:
    """One policy's or guard's say: ``guard`` is set for guard verdicts."""

    policy: str
    outcome: str
    reason: str = ""
    guard: str | None = None

    def to_json(self) -> dict[str, Any]:
        return _compact(
            {"policy": self.policy, "outcome": self.outcome, "reason": self.reason, "guard": self.guard}
        )


@dataclass(frozen=True, slots=True)
class ContentRef:
    """A piece of content, by digest. ``stored`` says what the content store holds for it."""

    part: str  # "request", "response", "tool_input", …
    sha256: str  # of the content as the caller sent / received it
    size: int
    stored: str  # "full", "redacted" or "digest" (nothing stored)
    stored_sha256: str | None = None  # of what is stored, when it differs (redacted)

    def to_json(self) -> dict[str, Any]:
        return _compact(
            {
                "part": self.part,
                "sha256": self.sha256,
                "size": self.size,
                "stored": self.stored,
                "stored_sha256": self.stored_sha256,
            }
        )


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def to_json(self) -> dict[str, int]:
        total = self.prompt_tokens + self.completion_tokens
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": total,
        }


@dataclass(frozen=True, slots=True)
class AuditEvent:
    """One event. ``to_record`` gives the JSON object the chain hashes (without chain/seq)."""

    type: EventType
    id: str = field(default_factory=lambda: new_event_id())
    time_us: int = field(default_factory=lambda: time.time_ns() // 1000)
    request_id: str | None = None
    principal: PrincipalRef | None = None
    session_id: str | None = None
    trace_id: str | None = None
    span_id: str | None = None
    parent_span_id: str | None = None
    surface: str | None = None
    route: str | None = None  # the model alias the caller asked for
    provider: str | None = None
    upstream_model: str | None = None
    status: int | None = None
    error_code: str | None = None
    usage: Usage | None = None
    cost_micro_usd: int | None = None
    latency_us: int | None = None
    ttfb_us: int | None = None
    stream: bool | None = None
    verdicts: tuple[Verdict, ...] = ()
    content: tuple[ContentRef, ...] = ()
    detail: Mapping[str, DetailValue] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        record: dict[str, Any] = {"type": self.type.value, "id": self.id, "time": format_time(self.time_us)}
        for name in _SCALARS:
            value = getattr(self, name)
            if value is not None:
                record[name] = value
        if self.principal is not None:
            record["principal"] = self.principal.to_json()
        if self.usage is not None:
            record["usage"] = self.usage.to_json()
        if self.verdicts:
            record["verdicts"] = [v.to_json() for v in self.verdicts]
        if self.content:
            record["content"] = [c.to_json() for c in self.content]
        if self.detail:
            record["detail"] = dict(self.detail)
        return record


# Optional plain fields of an event, written only when set (absent and null hash alike).
_SCALARS = (
    "request_id",
    "session_id",
    "trace_id",
    "span_id",
    "parent_span_id",
    "surface",
    "route",
    "provider",
    "upstream_model",
    "status",
    "error_code",
    "cost_micro_usd",
    "latency_us",
    "ttfb_us",
    "stream",
)


def new_event_id() -> str:
    """A time-ordered id: 48 bits of milliseconds then 80 random bits, as 32 hex digits.

    Ids need to be unique, not secret: the stdlib generator (seeded from the OS, reseeded in
    forked workers) is a tenth of the cost of ``os.urandom`` on a path taken per record. One
    integer written as hex costs half of two padded format specs."""
    return ((time.time_ns() // 1_000_000) << 80 | random.getrandbits(80)).to_bytes(16, "big").hex()


def format_time(time_us: int) -> str:
    """RFC 3339 UTC with microseconds: sorts as text in time order."""
    seconds, micros = divmod(time_us, 1_000_000)
    return f"{_second(seconds)}.{micros:06d}Z"


@functools.lru_cache(maxsize=64)
def _second(seconds: int) -> str:
    # Records of one batch share their second: formatting it once keeps the writer cheap.
    return (_EPOCH + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")


def parse_time(text: str) -> int:
    """Microseconds since the epoch from an RFC 3339 / ISO 8601 time (naive means UTC)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (moment - _EPOCH) // timedelta(microseconds=1)


def _compact(data: dict[str, Any]) -> dict[str, Any]:
    """Drop empty fields, so an absent value and its null hash alike."""
    return {k: v for k, v in data.items() if v is not None and v != []}
