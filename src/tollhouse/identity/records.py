"""The identity domain's own types, as repositories return them (never SQLAlchemy rows)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

RecordKind = Literal["user", "agent", "service"]
RECORD_KINDS: tuple[RecordKind, ...] = ("user", "agent", "service")


@dataclass(frozen=True, slots=True)
class Org:
    """An organisation: the outermost tenant."""

    id: str
    name: str
    created_at: float


@dataclass(frozen=True, slots=True)
class Team:
    """A team inside an organisation; keys, agents and budgets hang off teams."""

    id: str
    org_id: str
    name: str
    created_at: float


@dataclass(frozen=True, slots=True)
class PrincipalRecord:
    """A user, agent or service account as stored.

    An agent has an ``owner_id`` (the user or service answerable for it) and may be allowed
    to act ``on_behalf_of`` users (``can_delegate``), which records a delegation chain.
    """

    id: str
    kind: RecordKind
    org_id: str
    team_id: str | None
    name: str
    created_at: float
    owner_id: str | None = None
    roles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    can_delegate: bool = False
    disabled: bool = False
    metadata: Mapping[str, str] = field(default_factory=dict)


def _matches(patterns: tuple[str, ...], name: str) -> bool:
    # Empty means unrestricted; a trailing `*` matches a prefix ("gpt-4o*", "github/*").
    if not patterns:
        return True
    for pattern in patterns:
        if pattern == name or (pattern.endswith("*") and name.startswith(pattern[:-1])):
            return True
    return False


@dataclass(frozen=True, slots=True)
class Scopes:
    """What a key may reach. An empty tuple leaves that dimension unrestricted."""

    models: tuple[str, ...] = ()  # model aliases, `prefix*` allowed
    surfaces: tuple[str, ...] = ()  # chat, embeddings, messages, mcp, a2a …
    tools: tuple[str, ...] = ()  # MCP `server/tool` or `server/*`
    agents: tuple[str, ...] = ()  # A2A agent ids

    def allows_model(self, alias: str) -> bool:
        return _matches(self.models, alias)

    def allows_surface(self, surface: str) -> bool:
        return _matches(self.surfaces, surface)

    def allows_tool(self, server: str, tool: str) -> bool:
        return _matches(self.tools, f"{server}/{tool}")

    def allows_agent(self, agent_id: str) -> bool:
        return _matches(self.agents, agent_id)

    def to_json(self) -> dict[str, list[str]]:
        return {
            "models": list(self.models),
            "surfaces": list(self.surfaces),
            "tools": list(self.tools),
            "agents": list(self.agents),
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Scopes:
        data = data or {}
        return cls(
            models=tuple(data.get("models") or ()),
            surfaces=tuple(data.get("surfaces") or ()),
            tools=tuple(data.get("tools") or ()),
            agents=tuple(data.get("agents") or ()),
        )


@dataclass(frozen=True, slots=True)
class KeyRecord:
    """A virtual key's stored facts. ``digest`` is SHA-256 of the key; the key itself is never kept."""

    id: str
    principal_id: str
    digest: str  # hex
    prefix: str  # "th-" and the first characters, to recognise a key in a list
    last4: str
    name: str
    created_at: float
    expires_at: float | None = None
    revoked_at: float | None = None
    rotated_from: str | None = None
    last_used_at: float | None = None
    scopes: Scopes = Scopes()
    tags: tuple[str, ...] = ()
    metadata: Mapping[str, str] = field(default_factory=dict)

    def active_at(self, now: float) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True, slots=True)
class PolicyRecord:
    """A Cedar policy kept in the database (added through the admin API or CLI)."""

    id: str
    text: str
    description: str
    created_at: float
    updated_at: float


@dataclass(frozen=True, slots=True)
class CredentialRecord:
    """A provider credential's public facts: never the value, only its last four characters."""

    name: str
    last4: str
    key_version: int
    created_at: float
    updated_at: float
