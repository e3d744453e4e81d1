"""The ``mcp:`` config section: upstream MCP servers, the routes (virtual servers) callers
reach them through, and the gateway's rules for them (pinning, approvals, relays, limits).

It lives here rather than in ``config/schema.py`` so the MCP area owns its settings;
``GatewayConfig`` holds one field for it.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tollhouse.config.secrets import SecretRef

_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
SEPARATOR = "__"  # between a server's name and its tool's in a federated route: github__search

Transport = Literal["streamable_http", "sse", "stdio"]
PinMode = Literal["block", "flag", "off"]
RelayPolicy = Literal["allow", "deny"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RestartPolicy(_Section):
    """How a stdio server the gateway runs is restarted after it exits."""

    initial_backoff_s: Annotated[float, Field(gt=0)] = 0.2
    max_backoff_s: Annotated[float, Field(gt=0)] = 30.0


class OAuthClientCredentials(_Section):
    """The gateway's own OAuth client for an upstream (client credentials grant)."""

    token_url: str
    client_id: str
    client_secret: SecretRef
    scope: str | None = None
    audience: str | None = None


ACCESS_TOKEN_TYPE = "urn:ietf:params:oauth:token-type:access_token"  # noqa: S105 (a URN)


class TokenExchangeConfig(_Section):
    """RFC 8693 token exchange: the upstream's bearer token is the caller's validated inbound
    token exchanged at ``token_url`` by the gateway's own client; cached per caller until it
    expires. The caller's token itself never reaches the upstream."""

    token_url: str
    client_id: str
    client_secret: Annotated[SecretRef | None, Field(description="The client's secret (env:/file:).")] = None
    client_credential: Annotated[
        str | None, Field(description="Or: the name of a vault credential holding the client's secret.")
    ] = None
    client_auth: Annotated[
        Literal["basic", "post"],
        Field(description="HTTP Basic (client_secret_basic) or form fields (client_secret_post)."),
    ] = "basic"
    audience: str | None = None
    resource: str | None = None
    scope: str | None = None
    subject_token_type: str = ACCESS_TOKEN_TYPE
    requested_token_type: str | None = ACCESS_TOKEN_TYPE
    max_subjects: Annotated[
        int, Field(ge=1, description="Callers with a cached token and an upstream session, at most.")
    ] = 1000

    @model_validator(mode="after")
    def _one_secret(self) -> TokenExchangeConfig:
        if (self.client_secret is None) == (self.client_credential is None):
            raise ValueError("token_exchange needs exactly one of `client_secret` and `client_credential`")
        if not self.token_url.startswith(("http://", "https://")):
            raise ValueError("token_exchange.token_url must be an http(s) URL")
        return self


class VaultHeader(_Section):
    """A header whose value is a credential from the vault (`PUT /v1/credentials/{name}`)."""

    credential: str
    prefix: Annotated[str, Field(description='Written before the value, e.g. "Bearer ".')] = ""


class McpServerConfig(_Section):
    """One upstream MCP server. Credentials are the gateway's own: a caller's token is never
    passed through (no token passthrough)."""

    transport: Transport = "streamable_http"
    url: Annotated[str | None, Field(description="streamable_http: the MCP endpoint; sse: the SSE URL.")] = (
        None
    )
    headers: Annotated[
        dict[str, SecretRef], Field(description="Sent on every request (env:/file: refs for tokens).")
    ] = {}
    vault_headers: Annotated[
        dict[str, VaultHeader],
        Field(description="Headers from the credential vault (needs `vault.master_keys` and the database)."),
    ] = {}
    oauth: Annotated[
        OAuthClientCredentials | None, Field(description="Get a bearer token by client credentials.")
    ] = None
    token_exchange: Annotated[
        TokenExchangeConfig | None,
        Field(description="streamable_http: a per-caller bearer token by RFC 8693 token exchange."),
    ] = None
    command: Annotated[list[str], Field(description="stdio: the program and its arguments.")] = []
    env: Annotated[dict[str, SecretRef], Field(description="stdio: the process environment.")] = {}
    cwd: Annotated[str | None, Field(description="stdio: the working directory.")] = None
    restart: RestartPolicy = RestartPolicy()
    era: Annotated[
        Literal["auto", "handshake", "modern"],
        Field(
            description="streamable_http: `handshake` (2025-11-25 sessions), `modern` (2026-07-28 "
            "stateless requests) or `auto` (the handshake, unless the server speaks only 2026-07-28)."
        ),
    ] = "auto"
    timeout_s: Annotated[float, Field(gt=0, description="A whole request to this server.")] = 60.0
    connect_timeout_s: Annotated[float, Field(gt=0)] = 10.0
    catalog_ttl_s: Annotated[
        float,
        Field(ge=0, description="How long its tool/prompt/resource lists are reused (0: fetched per list)."),
    ] = 30.0

    @model_validator(mode="after")
    def _complete(self) -> McpServerConfig:
        if self.transport == "stdio":
            if not self.command:
                raise ValueError("a stdio server needs `command`")
        elif self.url is None or not self.url.startswith(("http://", "https://")):
            raise ValueError(f"a {self.transport} server needs an http(s) `url`")
        if self.token_exchange is not None:
            if self.transport != "streamable_http":
                raise ValueError("token_exchange needs the streamable_http transport")
            if self.oauth is not None or "authorization" in {
                h.lower() for h in [*self.headers, *self.vault_headers]
            }:
                raise ValueError(
                    "token_exchange provides the Authorization header: drop `oauth` and that header"
                )
        return self


class McpRouteConfig(_Section):
    """A virtual server at ``/mcp/{name}``: one upstream (names unchanged) or several
    federated (names prefixed ``server__tool``)."""

    name: str
    servers: Annotated[list[str], Field(min_length=1)]
    prefix: Annotated[
        bool | None, Field(description="Prefix names with `server__`; default: when there are several.")
    ] = None
    audience: Annotated[
        str | None,
        Field(description="Bearer tokens must name this audience; default: the route's resource URL."),
    ] = None

    @field_validator("name")
    @classmethod
    def _name_ok(cls, value: str) -> str:
        if not _NAME_RE.match(value):
            raise ValueError("route name: lower-case letters, digits, _ and -")
        return value

    @property
    def prefixed(self) -> bool:
        return self.prefix if self.prefix is not None else len(self.servers) > 1


class PinningConfig(_Section):
    """Tool poisoning and rug pulls: every definition is scanned and pinned by its hash."""

    mode: Annotated[
        PinMode,
        Field(
            description="block: a new or changed definition is hidden and refused until approved; "
            "flag: served, and recorded; off: no pinning."
        ),
    ] = "block"
    trust_on_first_use: Annotated[
        bool,
        Field(description="Approve a clean definition the first time it is seen (a changed one never)."),
    ] = True
    refresh_s: Annotated[float, Field(gt=0, description="How often approvals are reloaded.")] = 2.0


class ApprovalConfig(_Section):
    """Human approval: calls of these tools wait until an approver decides (or time runs out)."""

    tools: Annotated[
        list[str], Field(description="`server/tool` names; `server/*` for every tool of a server.")
    ] = []
    destructive: Annotated[
        bool, Field(description="Also every tool whose definition says `destructiveHint: true`.")
    ] = False
    timeout_s: Annotated[float, Field(gt=0)] = 300.0
    poll_s: Annotated[float, Field(gt=0, description="How often held calls check for a decision.")] = 0.5


class RelayConfig(_Section):
    """Requests an upstream server sends to the client while it handles a call."""

    sampling: RelayPolicy = "allow"
    elicitation: RelayPolicy = "allow"
    timeout_s: Annotated[float, Field(gt=0)] = 120.0


class McpLimits(_Section):
    """Tool-call caps (shared by the replicas through Redis when `redis.url` is set)."""

    per_session: Annotated[int | None, Field(ge=1, description="Tool calls per MCP session.")] = None
    per_agent_per_minute: Annotated[int | None, Field(ge=1)] = None
    per_tool_per_minute: Annotated[int | None, Field(ge=1, description="Per caller and tool.")] = None


class OAuthResourceConfig(_Section):
    """The gateway as an OAuth 2.1 protected resource (RFC 9728 metadata per route)."""

    resource_base_url: Annotated[
        str | None,
        Field(description="Public base URL of this gateway (https://gw.example.com); names each route."),
    ] = None
    authorization_servers: list[str] = []
    scopes: list[str] = []


class McpConfig(_Section):
    """The MCP gateway (docs/mcp.md)."""

    servers: dict[str, McpServerConfig] = {}
    routes: list[McpRouteConfig] = []
    allowed_origins: Annotated[
        list[str],
        Field(description="Browser origins allowed to call (others get 403); loopback origins always are."),
    ] = []
    pinning: PinningConfig = PinningConfig()
    approvals: ApprovalConfig = ApprovalConfig()
    relay: RelayConfig = RelayConfig()
    limits: McpLimits = McpLimits()
    oauth: OAuthResourceConfig = OAuthResourceConfig()
    session_idle_s: Annotated[float, Field(gt=0, description="A client session unused this long ends.")] = (
        3600.0
    )

    @field_validator("servers")
    @classmethod
    def _server_names(cls, value: dict[str, McpServerConfig]) -> dict[str, McpServerConfig]:
        for name in value:
            if not _NAME_RE.match(name) or SEPARATOR in name:
                raise ValueError(f"server name {name!r}: lower-case letters, digits, _ and - (no `__`)")
        return value

    @model_validator(mode="after")
    def _routes_ok(self) -> McpConfig:
        seen: set[str] = set()
        for route in self.routes:
            if route.name in seen:
                raise ValueError(f"mcp route {route.name!r} is defined twice")
            seen.add(route.name)
            for server in route.servers:
                if server not in self.servers:
                    raise ValueError(f"mcp route {route.name!r}: unknown server {server!r}")
            if len(route.servers) > 1 and route.prefix is False:
                raise ValueError(f"mcp route {route.name!r}: several servers need prefixes")
        return self
