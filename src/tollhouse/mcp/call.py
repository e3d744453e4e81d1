"""One MCP message as the gateway handles it: who sent it on which route, and what happened,
for the ``mcp.call`` audit record."""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from tollhouse.audit.events import Verdict
from tollhouse.identity.principal import Principal
from tollhouse.mcp.naming import RouteNames
from tollhouse.mcp.sessions import Channel, ClientSession
from tollhouse.pipeline.context import RequestContext


@dataclass(frozen=True, slots=True)
class McpRoute:
    """A virtual server at ``/mcp/{name}``: its names and the token audience it requires."""

    name: str
    names: RouteNames
    audience: str | None  # the `aud` a bearer token must carry (None: not checked)

    @property
    def servers(self) -> tuple[str, ...]:
        return self.names.servers


@dataclass(slots=True)
class Caller:
    """The sender of a message: principal, route, session, the way back, the HTTP request."""

    principal: Principal | None
    route: McpRoute
    session: ClientSession | None
    channel: Channel
    ctx: RequestContext
    era: str  # the protocol revision the caller speaks

    @property
    def agent(self) -> str | None:
        p = self.principal
        return p.id if p is not None and p.kind == "agent" else None


@dataclass(slots=True)
class McpCall:
    """What the audit record of one message says."""

    method: str
    started: float = field(default_factory=time.perf_counter)
    server: str | None = None
    name: str | None = None  # the upstream's tool or prompt name, or the resource URI
    exposed: str | None = None  # the name the caller used
    args_sha256: str | None = None
    result_sha256: str | None = None
    outcome: str = "ok"  # ok, tool_error, error, denied, blocked, pending_approval
    error_code: int | None = None
    error: str | None = None
    verdicts: list[Verdict] = field(default_factory=list)
    detail: dict[str, Any] = field(default_factory=dict)

    def deny(self, outcome: str, policy: str, reason: str, guard: str | None = None) -> None:
        self.outcome = outcome
        self.verdicts.append(Verdict(policy, "deny" if outcome == "denied" else outcome, reason, guard))


def digest(value: Any) -> str:
    """SHA-256 of a JSON value's canonical form (sorted keys): the same arguments, the same digest."""
    return hashlib.sha256(orjson.dumps(value, option=orjson.OPT_SORT_KEYS)).hexdigest()
