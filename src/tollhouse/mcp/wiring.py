"""Config → the MCP gateway: links per upstream, catalogs, routes, and the checks.

Only this module imports the MCP package's heavier parts, and ``compile_config`` imports it
only when ``mcp.routes`` is set, so ``import tollhouse`` never loads the ``mcp`` SDK.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING

from tollhouse.config.load import ConfigIssue
from tollhouse.config.secrets import Secret, SecretError, SecretRef
from tollhouse.guards.build import build_guards
from tollhouse.guards.config import GuardrailPolicyConfig
from tollhouse.identity.snapshot import IdentityState
from tollhouse.identity.wiring import build_vault
from tollhouse.limits.redis_store import RedisStore
from tollhouse.mcp.approvals import Approvals
from tollhouse.mcp.authorize import Authorizer
from tollhouse.mcp.call import McpRoute
from tollhouse.mcp.catalog import ServerCatalog
from tollhouse.mcp.config import McpServerConfig
from tollhouse.mcp.gateway import McpGateway
from tollhouse.mcp.guarding import GuardPolicy, ToolGuards
from tollhouse.mcp.limits import ToolLimits
from tollhouse.mcp.naming import RouteNames
from tollhouse.mcp.pins import PinGate
from tollhouse.mcp.scan import distinctive
from tollhouse.mcp.shared_sessions import SharedSessions
from tollhouse.mcp.upstream.credentials import Credentials
from tollhouse.mcp.upstream.exchange import ClientSecret, TokenExchanger
from tollhouse.mcp.upstream.http_link import HttpLink
from tollhouse.mcp.upstream.link import Link, Listener
from tollhouse.mcp.upstream.sse_link import SseLink
from tollhouse.mcp.upstream.stdio_link import StdioLink
from tollhouse.mcp.upstream.subject_links import SubjectLinks
from tollhouse.mcp.vault_headers import VaultHeaders
from tollhouse.pipeline.chain import Chain
from tollhouse.pipeline.phases import CallKind
from tollhouse.pipeline.policy import Policy
from tollhouse.upstream.pool import UpstreamPool

if TYPE_CHECKING:
    from tollhouse.audit.trail import AuditTrail
    from tollhouse.config.schema import GatewayConfig


def _secrets(
    refs: dict[str, SecretRef], path: str, issues: list[ConfigIssue], secrets: list[Secret]
) -> dict[str, Secret]:
    resolved: dict[str, Secret] = {}
    for key, ref in refs.items():
        try:
            resolved[key] = ref.resolve()
        except SecretError as exc:
            issues.append(ConfigIssue(f"{path}.{key}", str(exc)))
            continue
        secrets.append(resolved[key])
    return resolved


def _link(
    name: str,
    server: McpServerConfig,
    pool: UpstreamPool,
    listener: Listener,
    issues: list[ConfigIssue],
    secrets: list[Secret],
    vaulted: list[Credentials],
) -> Link:
    path = f"mcp.servers.{name}"
    if server.transport == "stdio":
        return StdioLink(name, server, _secrets(server.env, f"{path}.env", issues, secrets), listener)
    if server.token_exchange is not None:
        return _exchanging_link(name, server, pool, listener, issues, secrets, vaulted)
    static = _secrets(server.headers, f"{path}.headers", issues, secrets)
    client_secret = None
    if server.oauth is not None:
        found = _secrets({"client_secret": server.oauth.client_secret}, f"{path}.oauth", issues, secrets)
        client_secret = found.get("client_secret")
    credentials = Credentials(name, static, server.oauth, client_secret, pool)
    for header, ref in server.vault_headers.items():
        credentials.want_vault(header, ref.credential, ref.prefix)
    if server.vault_headers:
        vaulted.append(credentials)
    if server.transport == "sse":
        return SseLink(name, server, credentials, pool, listener)
    return HttpLink(name, server, credentials, pool, listener)


def _exchanging_link(
    name: str,
    server: McpServerConfig,
    pool: UpstreamPool,
    listener: Listener,
    issues: list[ConfigIssue],
    secrets: list[Secret],
    vaulted: list[Credentials],
) -> Link:
    """A server reached with each caller's token exchanged (RFC 8693): one session per caller."""
    exchange = server.token_exchange
    assert exchange is not None
    if exchange.client_credential is not None:
        secret = ClientSecret.from_vault(name, exchange.client_credential)
        assert secret.vaulted is not None
        vaulted.append(secret.vaulted)
    else:
        assert exchange.client_secret is not None
        path = f"mcp.servers.{name}.token_exchange"
        found = _secrets({"client_secret": exchange.client_secret}, path, issues, secrets)
        secret = ClientSecret(name, fixed=found["client_secret"].reveal() if "client_secret" in found else "")
    static = _secrets(server.headers, f"mcp.servers.{name}.headers", issues, secrets)
    if static or server.vault_headers:
        issues.append(ConfigIssue(f"mcp.servers.{name}", "token_exchange servers take no other headers"))
    return SubjectLinks(name, server, TokenExchanger(name, exchange, secret, pool), pool, listener)


def compile_mcp(
    config: GatewayConfig,
    front: Sequence[Policy],
    state: IdentityState | None,
    trail: AuditTrail | None,
    pool: UpstreamPool,
    issues: list[ConfigIssue],
    secrets: list[Secret],
) -> McpGateway:
    """The MCP gateway for ``config.mcp``; problems go to ``issues``. No I/O."""
    mcp = config.mcp
    used = {server for route in mcp.routes for server in route.servers}
    catalogs: dict[str, ServerCatalog] = {}

    built: list[McpGateway] = []  # the listener is needed before the gateway exists

    def listener(server: str, notification: dict[str, object]) -> None:
        """An upstream's notification outside any call: a list changed (fetch it again) or a
        followed resource was updated (tell its followers)."""
        if notification.get("method") == "notifications/resources/updated":
            if built:
                built[0].resource_updated(server, notification)
            return
        catalogs[server].changed(notification)

    vaulted: list[Credentials] = []
    links = {
        name: _link(name, mcp.servers[name], pool, listener, issues, secrets, vaulted)
        for name in sorted(used)
    }
    for name, link in links.items():
        catalogs[name] = ServerCatalog(name, link, mcp.servers[name].catalog_ttl_s)
        if isinstance(link, HttpLink | SubjectLinks):
            link.input_schema = catalogs[name].input_schema
    base = mcp.oauth.resource_base_url.rstrip("/") if mcp.oauth.resource_base_url else None
    routes = {
        r.name: McpRoute(
            r.name,
            RouteNames(r.name, tuple(r.servers), r.prefixed),
            r.audience or (f"{base}/mcp/{r.name}" if base else None),
        )
        for r in mcp.routes
    }
    authorizer = Authorizer(state, config.authorization.enabled)
    gateway = McpGateway(mcp, links, catalogs, routes, Chain(front, CallKind.MCP), authorizer, trail)
    built.append(gateway)
    gateway.exchanging = any(isinstance(link, SubjectLinks) for link in links.values())
    db_url = _database(config, issues, secrets) if _needs_database(config) or vaulted else None
    if vaulted:
        vault = build_vault(config, issues, secrets)
        if vault is None:
            issues.append(ConfigIssue("mcp.servers", "vault_headers need vault.master_keys"))
        elif db_url is not None:
            gateway.background.insert(0, VaultHeaders(vault, db_url, vaulted))  # before any upstream call
    if mcp.pinning.mode != "off" and db_url is not None:
        gateway.pins = PinGate(
            mcp.pinning, db_url, config.database.migrate_on_start, trail, _neighbours(config, catalogs)
        )
        gateway.background.append(gateway.pins)
    if (mcp.approvals.tools or mcp.approvals.destructive or _guards_approve(config)) and db_url is not None:
        gateway.approvals = Approvals(mcp.approvals, db_url, config.database.migrate_on_start)
        gateway.background.append(gateway.approvals)
    redis_url = _redis_url(config, issues, secrets)
    if redis_url is not None:  # sessions and tool-call counts any replica can use
        prefix = config.limits.key_prefix
        gateway.sessions.shared = SharedSessions(redis_url, mcp.session_idle_s, f"{prefix}mcp:session:")
    limits = mcp.limits
    if limits.per_session or limits.per_agent_per_minute or limits.per_tool_per_minute:
        shared = RedisStore(redis_url) if redis_url else None
        gateway.limits = ToolLimits(limits, shared=shared, prefix=config.limits.key_prefix)
    guards = _guard_policies(config, pool, secrets)
    if guards:
        gateway.guards = ToolGuards(guards)
    return gateway


def _redis_url(config: GatewayConfig, issues: list[ConfigIssue], secrets: list[Secret]) -> str | None:
    if config.redis.url is None:
        return None
    found = _secrets({"url": config.redis.url}, "redis", issues, secrets)
    return found["url"].reveal() if "url" in found else None


def _mcp_guardrails(config: GatewayConfig) -> list[GuardrailPolicyConfig]:
    """The guardrail policies that cover MCP: a tool stage, and no match MCP calls cannot meet."""
    return [
        p
        for p in config.guardrails.policies
        if {"tool_args", "tool_results"} & set(p.stages)
        and (not p.match.surfaces or "mcp" in p.match.surfaces)
        and not p.match.models
    ]


def _guards_approve(config: GatewayConfig) -> bool:
    return any(g.action == "require_approval" for p in _mcp_guardrails(config) for g in p.guards)


def _guard_policies(
    config: GatewayConfig, pool: UpstreamPool, secrets: list[Secret]
) -> tuple[GuardPolicy, ...]:
    built = []
    for i, policy in enumerate(_mcp_guardrails(config)):
        # Problems with these guards are reported once, by the guardrails section itself.
        guards = build_guards(policy, pool, f"guardrails.policies.{i}", [], secrets)
        m = policy.match
        built.append(
            GuardPolicy(
                policy.name,
                guards,
                policy.dry_run,
                frozenset(m.principals),
                frozenset(m.teams),
                frozenset(m.agents),
                frozenset(m.tags),
                policy.max_scan_chars,
            )
        )
    return tuple(built)


def _needs_database(config: GatewayConfig) -> bool:
    approvals = config.mcp.approvals
    return (
        config.mcp.pinning.mode != "off"
        or bool(approvals.tools or approvals.destructive)
        or _guards_approve(config)
    )


def _database(config: GatewayConfig, issues: list[ConfigIssue], secrets: list[Secret]) -> str | None:
    try:
        secret = config.database.url.resolve()
    except SecretError as exc:
        issues.append(ConfigIssue("database.url", str(exc)))
        return None
    secrets.append(secret)
    return secret.reveal()


def _neighbours(
    config: GatewayConfig, catalogs: Mapping[str, ServerCatalog]
) -> Callable[[str], frozenset[str]]:
    """server → the distinctive tool names of the other servers it shares a route with."""
    beside: dict[str, set[str]] = {}
    for route in config.mcp.routes:
        for server in route.servers:
            beside.setdefault(server, set()).update(s for s in route.servers if s != server)

    def names(server: str) -> frozenset[str]:
        found: set[str] = set()
        for other in beside.get(server, ()):
            found |= catalogs[other].cached_keys("tools/list")
        return distinctive(found)

    return names
