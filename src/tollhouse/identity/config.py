"""Config sections for identity: virtual keys, JWT issuers, authorization, admin plane, vault.

They live here rather than in ``config/schema.py`` so the identity area owns its settings;
``GatewayConfig`` only holds one field per section.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tollhouse.config.secrets import SecretRef

_POLICY_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
ROLES = ("admin", "security-auditor", "approver", "team-admin", "viewer")


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IdentityConfig(_Section):
    """Virtual keys and principals kept in the database, served from an in-memory snapshot."""

    enabled: Annotated[
        bool, Field(description="Accept virtual keys (th-…) and load principals from `database.url`.")
    ] = False
    refresh_interval_s: Annotated[
        float,
        Field(gt=0, description="How often each replica checks the database for changes (polling)."),
    ] = 5.0
    last_used_flush_s: Annotated[
        float, Field(gt=0, description="Keys' last-used timestamps are written in batches this often.")
    ] = 30.0
    delegation_header: Annotated[
        str, Field(description="Header an agent names the user it acts for in (when allowed to).")
    ] = "x-tollhouse-on-behalf-of"

    @field_validator("delegation_header")
    @classmethod
    def _lower(cls, value: str) -> str:
        return value.lower()


class ClaimMapping(_Section):
    """Which token claims name the principal, its team, its roles and (for agents) the agent."""

    subject: str = "sub"
    groups: Annotated[str, Field(description="Claim listing groups; mapped to teams by `team_map`.")] = (
        "groups"
    )
    roles: Annotated[str, Field(description="Claim listing admin roles (admin, viewer, …).")] = "roles"
    agent: Annotated[
        str, Field(description="Custom claim holding an agent id; its presence makes the caller an agent.")
    ] = "agent_id"
    team_map: Annotated[
        dict[str, str], Field(description="Group name → team id. A group not listed is ignored.")
    ] = {}


class JwtIssuerConfig(_Section):
    """One trusted OIDC issuer."""

    issuer: Annotated[str, Field(description="Expected `iss`; also the base of OIDC discovery.")]
    audience: Annotated[list[str], Field(min_length=1, description="Accepted `aud` values.")]
    jwks_url: Annotated[
        str | None,
        Field(description="JWKS location; unset: read from {issuer}/.well-known/openid-configuration."),
    ] = None
    algorithms: list[Literal["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"]] = [
        "RS256",
        "ES256",
    ]
    leeway_s: Annotated[float, Field(ge=0, le=300, description="Clock skew tolerated on exp/nbf/iat.")] = 30.0
    jwks_ttl_s: Annotated[float, Field(gt=0, description="How long fetched keys are trusted.")] = 600.0
    org_id: str | None = None
    claims: ClaimMapping = ClaimMapping()

    @field_validator("issuer", "jwks_url")
    @classmethod
    def _http(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return value.rstrip("/") if value else value


class JwtConfig(_Section):
    """Bearer tokens from OIDC providers, accepted beside master and virtual keys."""

    issuers: list[JwtIssuerConfig] = []


class PolicyConfig(_Section):
    """A Cedar policy from the config file (the admin API adds more at run time)."""

    id: str
    text: str

    @field_validator("id")
    @classmethod
    def _id_ok(cls, value: str) -> str:
        if not _POLICY_ID_RE.match(value):
            raise ValueError("policy id: letters, digits and ._:- only, at most 128 characters")
        return value


class AuthorizationConfig(_Section):
    """Cedar authorization of every call: who may invoke which model, tool or agent."""

    enabled: Annotated[bool, Field(description="Evaluate Cedar policies (key scopes always apply).")] = True
    policies: list[PolicyConfig] = []
    users_default: Annotated[
        Literal["allow", "deny"],
        Field(description="Users and services with no matching policy; agents are always default-deny."),
    ] = "allow"
    cache_ttl_s: Annotated[
        float,
        Field(ge=0, le=300, description="How long a decision is reused per (principal, action, resource)."),
    ] = 5.0

    @model_validator(mode="after")
    def _unique_ids(self) -> AuthorizationConfig:
        ids = [p.id for p in self.policies]
        if len(ids) != len(set(ids)):
            raise ValueError("policy ids must be unique")
        return self


class AdminConfig(_Section):
    """The admin API: its own port, loopback unless configured otherwise."""

    enabled: bool = False
    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 4001


class VaultConfig(_Section):
    """Provider credentials encrypted at rest (AES-256-GCM) under a versioned master key."""

    master_keys: Annotated[
        dict[int, SecretRef],
        Field(
            description="Version → 32-byte key, base64 (env:NAME or file:PATH). The highest version "
            "encrypts; older ones still decrypt until `tollhouse credentials rekey`."
        ),
    ] = {}


class AuthThrottleConfig(_Section):
    """Brute-force protection: a client with too many failed authentications waits."""

    enabled: bool = True
    max_failures: Annotated[int, Field(ge=1)] = 20
    window_s: Annotated[float, Field(gt=0)] = 60.0
    block_s: Annotated[float, Field(gt=0, description="How long a client is refused after the limit.")] = 60.0
    max_clients: Annotated[int, Field(ge=100, description="Clients tracked at once (oldest forgotten).")] = (
        100_000
    )
