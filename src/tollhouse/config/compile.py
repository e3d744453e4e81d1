"""Config → runtime: resolve secrets, instantiate providers and policies, precompute replies."""

from __future__ import annotations

from types import MappingProxyType
from typing import TYPE_CHECKING

from tollhouse.approvals.wiring import tool_call_approvals
from tollhouse.cache.wiring import build_cache
from tollhouse.catalog.table import load as load_catalog
from tollhouse.config.load import ConfigError, ConfigIssue
from tollhouse.config.runtime import Runtime
from tollhouse.config.schema import GatewayConfig, ProviderConfig
from tollhouse.config.secrets import Secret, SecretError, SecretRef
from tollhouse.identity.provider_keys import Rekeyable, VaultKeyUse
from tollhouse.identity.wiring import compile_identity
from tollhouse.limits.wiring import compile_limits
from tollhouse.mcp.entry import build_mcp
from tollhouse.observability.metrics import Metrics
from tollhouse.observability.redact import Redactor
from tollhouse.pipeline.chain import Chain
from tollhouse.pipeline.phases import CallKind
from tollhouse.pipeline.policy import Policy
from tollhouse.policies.authorize import Authorize
from tollhouse.policies.guardrails import compile_guardrails
from tollhouse.policies.request_validation import RequestValidation
from tollhouse.providers.openai_compatible.catalog import CATALOG
from tollhouse.providers.protocol import Provider
from tollhouse.providers.registry import NATIVE_KEY_ENV, known_kinds, provider_class
from tollhouse.routing.build import build_routing, target_refs
from tollhouse.routing.directory import ModelDirectory
from tollhouse.upstream.pool import UpstreamPool

if TYPE_CHECKING:
    from tollhouse.audit.wiring import AuditParts

SURFACES = ("chat", "embeddings", "messages", "count_tokens", "responses")


def _resolve(ref: SecretRef | None, path: str, issues: list[ConfigIssue]) -> Secret | None:
    if ref is None:
        return None
    try:
        return ref.resolve()
    except SecretError as exc:
        issues.append(ConfigIssue(path, str(exc)))
        return None


def _implicit_provider(name: str) -> ProviderConfig | None:
    """A catalog name used in a target without a `providers` entry: its defaults, key from env."""
    row = CATALOG.get(name)
    if row is None:
        native = NATIVE_KEY_ENV.get(name)
        return ProviderConfig(kind=name, api_key=SecretRef(f"env:{native}")) if native else None
    key = SecretRef(f"env:{row.api_key_env}") if row.api_key_env else None
    return ProviderConfig(kind=name, api_key=key)


def _providers(
    config: GatewayConfig,
    pool: UpstreamPool,
    secrets: list[Secret],
    issues: list[ConfigIssue],
    vaulted: list[VaultKeyUse],
) -> dict[str, Provider]:
    wanted = dict(config.providers)
    for path, target in target_refs(config.models):
        name = target.partition("/")[0]
        if name not in wanted:
            implicit = _implicit_provider(name)
            if implicit is None:
                issues.append(
                    ConfigIssue(
                        path,
                        f"unknown provider {name!r}: not in "
                        f"`providers` and not one of {', '.join(sorted(CATALOG))}",
                    )
                )
                continue
            wanted[name] = implicit
    built: dict[str, Provider] = {}
    for name, pconf in wanted.items():
        try:
            cls = provider_class(pconf.kind)
        except KeyError:
            issues.append(
                ConfigIssue(
                    f"providers.{name}.kind",
                    f"unknown kind {pconf.kind!r}; known: {', '.join(known_kinds())}",
                )
            )
            continue
        from_vault = pconf.api_key is not None and pconf.api_key.kind == "vault"
        # A vault key is opened at start (identity.provider_keys) and handed over with rekey().
        key = None if from_vault else _resolve(pconf.api_key, f"providers.{name}.api_key", issues)
        if key is not None:
            secrets.append(key)
        for field in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token", "service_account"):
            extra = _resolve(getattr(pconf, field), f"providers.{name}.{field}", issues)
            if extra is not None:
                secrets.append(extra)  # the provider reads them itself; the redactor must know them
        try:
            built[name] = cls(name, pconf, key, pool)
        except ValueError as exc:
            issues.append(ConfigIssue(f"providers.{name}", str(exc)))
            continue
        provider = built[name]
        if from_vault and pconf.api_key is not None:
            if not isinstance(provider, Rekeyable):
                why = f"kind {pconf.kind} cannot take its key from the vault"
                issues.append(ConfigIssue(f"providers.{name}.api_key", why))
                continue
            vaulted.append(VaultKeyUse(name, pconf.api_key.target, provider))
    return built


def _audit(config: GatewayConfig, issues: list[ConfigIssue], secrets: list[Secret]) -> AuditParts | None:
    if not config.audit.enabled:
        return None
    # Imported only when used: the audit machinery (SQLAlchemy, crypto, sinks) is heavy to load.
    from tollhouse.audit.wiring import compile_audit

    return compile_audit(config, issues, secrets)


def compile_config(config: GatewayConfig, source: str = "<config>") -> Runtime:
    """Build the runtime; raise ``ConfigError`` listing every problem (bad secret, kind, target)."""
    issues: list[ConfigIssue] = []
    secrets: list[Secret] = []
    keys = [
        k
        for i, ref in enumerate(config.auth.master_keys)
        if (k := _resolve(ref, f"auth.master_keys.{i}", issues)) is not None
    ]
    secrets.extend(keys)
    pool = UpstreamPool()
    vaulted: list[VaultKeyUse] = []
    providers = _providers(config, pool, secrets, issues, vaulted)
    audit = _audit(config, issues, secrets)  # first: the admin API records into its trail
    identity = compile_identity(config, keys, issues, secrets, audit.admin if audit else None, vaulted)
    approvals = tool_call_approvals(config, issues, secrets)
    guardrails = compile_guardrails(config.guardrails, pool, issues, secrets, approvals)
    cache = build_cache(config, issues, secrets)
    if issues:
        raise ConfigError(source, issues)
    routing = build_routing(config, providers, load_catalog(), issues, secrets)
    limits = compile_limits(config, routing.routes, issues, secrets)
    trail = audit.trail if audit else None
    mcp = build_mcp(config, identity.front, identity.state, trail, pool, issues, secrets)
    if issues:
        raise ConfigError(source, issues)
    policies: list[Policy] = [
        *identity.front,
        RequestValidation(config.server.max_body_bytes, config.server.body_timeout_s),
        *identity.behind,
        *guardrails,
        *limits.policies,
        *cache.policies,
        *(audit.policies if audit else ()),
    ]
    redactor = Redactor(s.reveal() for s in secrets)
    if identity.provider_keys is not None:
        identity.provider_keys.redactor = redactor  # vault keys arrive at start: scrubbed too
    chain = Chain(policies, CallKind.LLM)
    chains = {**dict.fromkeys(SURFACES, chain), "models": Chain(identity.front, CallKind.LLM)}
    metrics = Metrics()
    if trail is not None:
        from tollhouse.audit.metrics import AuditMetrics  # with the rest of the audit machinery

        metrics.add_source(AuditMetrics(trail, metrics.registry))
    return Runtime(
        config=config,
        routes=MappingProxyType(routing.routes),
        providers=MappingProxyType(providers),
        chains=MappingProxyType(chains),
        metrics=metrics,
        redactor=redactor,
        pool=pool,
        models=ModelDirectory.of(config),
        observers=(
            # The trail starts before the admin API and stops after it: no admin change unrecorded.
            *([trail] if trail else []),
            *([mcp] if mcp else []),
            *([approvals] if approvals else []),
            *identity.observers,
            *routing.observers,
            *limits.observers,
            *cache.observers,
        ),
        identity=identity.state,
        mcp=mcp,
        authorize=next((p for p in identity.behind if isinstance(p, Authorize)), None),
    )
