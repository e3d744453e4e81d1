"""The configuration file's schema (pydantic). ``tollhouse config schema`` prints it."""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tollhouse.audit.settings import AuditConfig
from tollhouse.cache.config import CacheConfig
from tollhouse.config.secrets import SecretRef
from tollhouse.guards.config import GuardrailsConfig
from tollhouse.identity.config import (
    AdminConfig,
    AuthorizationConfig,
    AuthThrottleConfig,
    IdentityConfig,
    JwtConfig,
    VaultConfig,
)
from tollhouse.limits.config import LimitsConfig
from tollhouse.mcp.config import McpConfig
from tollhouse.routing.config import RouteOptions, RoutingConfig, check_target

_ALIAS_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:/@-]{0,127}$")
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ServerConfig(_Strict):
    """Where and how the HTTP server listens."""

    host: str = "127.0.0.1"
    port: Annotated[int, Field(ge=1, le=65535)] = 4000
    workers: Annotated[int, Field(ge=1, le=256)] = 1
    max_body_bytes: Annotated[int, Field(ge=1024, description="Largest request body accepted.")] = (
        8 * 1024 * 1024
    )
    body_timeout_s: Annotated[
        float, Field(gt=0, description="Time a client has to send its whole body (408 after).")
    ] = 30.0
    access_log: bool = False
    check_upstreams_on_ready: Annotated[
        bool, Field(description="/readyz also checks that every upstream accepts a connection.")
    ] = False


class AuthConfig(_Strict):
    """Who may call. Master keys grant full access; later identity issues add virtual keys."""

    master_keys: Annotated[
        list[SecretRef],
        Field(description="Keys accepted as `Authorization: Bearer KEY` (env:NAME, file:PATH)."),
    ] = []
    allow_unauthenticated: Annotated[
        bool, Field(description="Serve without any key. Only for local experiments.")
    ] = False

    @model_validator(mode="after")
    def _some_way_in(self) -> AuthConfig:
        if not self.master_keys and not self.allow_unauthenticated:
            raise ValueError("set auth.master_keys (or allow_unauthenticated: true for local use)")
        return self


class Timeouts(_Strict):
    """Upstream timeouts, in seconds."""

    connect_s: Annotated[float, Field(gt=0)] = 10.0
    first_byte_s: Annotated[
        float,
        Field(gt=0, description="Streams: until the response headers, and the longest gap between chunks."),
    ] = 120.0
    total_s: Annotated[
        float,
        Field(gt=0, description="A whole non-streaming call (its answer arrives when generation ends)."),
    ] = 600.0


class ProviderConfig(_Strict):
    """One upstream. `kind` is `demo`, `openai_compatible` or a catalog name (`openai`, `groq`…)."""

    kind: str
    base_url: str | None = None
    api_key: SecretRef | None = None
    headers: dict[str, str] = {}
    timeouts: Timeouts = Timeouts()
    max_connections: Annotated[int, Field(ge=1, le=100_000)] = 1000
    # Native providers (each optional; see docs/providers.md).
    api_version: Annotated[
        str | None, Field(description="Azure `api-version`; Anthropic `anthropic-version` header.")
    ] = None
    region: Annotated[str | None, Field(description="Bedrock AWS region; Vertex AI location.")] = None
    project: Annotated[str | None, Field(description="Vertex AI project id.")] = None
    deployments: Annotated[
        dict[str, str], Field(description="Azure: model name → deployment name (default: the same).")
    ] = {}
    aws_access_key_id: SecretRef | None = None
    aws_secret_access_key: SecretRef | None = None
    aws_session_token: SecretRef | None = None
    service_account: Annotated[
        SecretRef | None,
        Field(
            description="Vertex AI: a service-account key file's JSON (e.g. `file:/keys/sa.json`), for OAuth 2 tokens."
        ),
    ] = None

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("base_url must start with http:// or https://")
        return value.rstrip("/") if value else value


class ModelPrice(_Strict):
    """USD per million tokens; overrides the model catalog's price for this route."""

    input: Annotated[float, Field(ge=0)]
    output: Annotated[float, Field(ge=0)]
    cached_input: Annotated[float | None, Field(ge=0, description="Cache reads; default: input.")] = None
    cache_write: Annotated[float | None, Field(ge=0, description="Cache writes; default: input.")] = None


class ModelRoute(RouteOptions):
    """A model alias callers use, and the provider/model it reaches (`target`), or several
    (`targets`, with `strategy`, `retry`, `deadline_s`, `timeouts`, `fallbacks`)."""

    alias: str
    target: Annotated[
        str | None, Field(description="`provider/model`: a provider name from `providers` or a catalog name.")
    ] = None
    price: Annotated[ModelPrice | None, Field(description="Overrides the catalog price of every target.")] = (
        None
    )

    @field_validator("alias")
    @classmethod
    def _alias_ok(cls, value: str) -> str:
        if not _ALIAS_RE.match(value):
            raise ValueError("alias: letters, digits and ._:/@- only, at most 128 characters")
        return value

    @field_validator("target")
    @classmethod
    def _target_ok(cls, value: str | None) -> str | None:
        return None if value is None else check_target(value)

    @model_validator(mode="after")
    def _one_way(self) -> ModelRoute:
        if (self.target is None) == (not self.targets):
            raise ValueError("set either `target` or `targets`")
        return self


class DatabaseConfig(_Strict):
    """Where durable state lives: SQLite by default, PostgreSQL to share it between replicas."""

    url: Annotated[
        SecretRef,
        Field(description="sqlite:///PATH or postgresql://USER@HOST/DB (env:NAME when it holds a password)."),
    ] = SecretRef("sqlite:///tollhouse.db")
    migrate_on_start: Annotated[bool, Field(description="Apply pending migrations when serving starts.")] = (
        True
    )


class RedisConfig(_Strict):
    """Shared counters and change notifications across replicas; unset means in-process."""

    url: Annotated[
        SecretRef | None, Field(description="redis://HOST:PORT/DB (env:NAME with a password).")
    ] = None


class MetricsConfig(_Strict):
    enabled: bool = True


class LoggingConfig(_Strict):
    level: Literal["debug", "info", "warning", "error"] = "info"
    format: Literal["text", "json"] = "text"


class GatewayConfig(_Strict):
    """The whole configuration file."""

    server: ServerConfig = ServerConfig()
    auth: AuthConfig
    providers: dict[str, ProviderConfig] = {}
    models: list[ModelRoute]
    database: DatabaseConfig = DatabaseConfig()
    redis: RedisConfig = RedisConfig()
    metrics: MetricsConfig = MetricsConfig()
    logging: LoggingConfig = LoggingConfig()
    identity: IdentityConfig = IdentityConfig()
    jwt: JwtConfig = JwtConfig()
    authorization: AuthorizationConfig = AuthorizationConfig()
    admin: AdminConfig = AdminConfig()
    vault: VaultConfig = VaultConfig()
    auth_throttle: AuthThrottleConfig = AuthThrottleConfig()
    audit: AuditConfig = AuditConfig()
    guardrails: GuardrailsConfig = GuardrailsConfig()
    routing: RoutingConfig = RoutingConfig()
    cache: CacheConfig = CacheConfig()
    limits: LimitsConfig = LimitsConfig()
    mcp: McpConfig = McpConfig()

    @field_validator("providers")
    @classmethod
    def _names_ok(cls, value: dict[str, ProviderConfig]) -> dict[str, ProviderConfig]:
        for name in value:
            if not _NAME_RE.match(name):
                raise ValueError(f"provider name {name!r}: lower-case letters, digits, _ and -")
        return value

    @model_validator(mode="after")
    def _aliases_unique(self) -> GatewayConfig:
        seen: set[str] = set()
        for route in self.models:
            if route.alias in seen:
                raise ValueError(f"model alias {route.alias!r} is defined twice")
            seen.add(route.alias)
        return self
