"""Config → runtime: resolve secrets, instantiate providers and policies, precompute replies."""

from __future__ import annotations

import time
from types import MappingProxyType

import orjson

from tollhouse.audit.wiring import compile_audit
from tollhouse.catalog.lookup import route_price
from tollhouse.catalog.pricing import Price
from tollhouse.catalog.table import load as load_catalog
from tollhouse.config.load import ConfigError, ConfigIssue
from tollhouse.config.runtime import Route, Runtime
from tollhouse.config.schema import GatewayConfig, ProviderConfig
from tollhouse.config.secrets import Secret, SecretError, SecretRef
from tollhouse.identity.wiring import compile_identity
from tollhouse.observability.metrics import Metrics
from tollhouse.observability.redact import Redactor
from tollhouse.pipeline.chain import Chain
from tollhouse.pipeline.phases import CallKind
from tollhouse.pipeline.policy import Policy
from tollhouse.policies.request_validation import RequestValidation
from tollhouse.providers.openai_compatible.catalog import CATALOG
from tollhouse.providers.protocol import Provider
from tollhouse.providers.registry import NATIVE_KEY_ENV, known_kinds, provider_class
from tollhouse.upstream.pool import UpstreamPool

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
    config: GatewayConfig, pool: UpstreamPool, secrets: list[Secret], issues: list[ConfigIssue]
) -> dict[str, Provider]:
    wanted = dict(config.providers)
    for i, route in enumerate(config.models):
        name = route.target.partition("/")[0]
        if name not in wanted:
            implicit = _implicit_provider(name)
            if implicit is None:
                issues.append(
                    ConfigIssue(
                        f"models.{i}.target",
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
        key = _resolve(pconf.api_key, f"providers.{name}.api_key", issues)
        if key is not None:
            secrets.append(key)
        for field in ("aws_access_key_id", "aws_secret_access_key", "aws_session_token"):
            extra = _resolve(getattr(pconf, field), f"providers.{name}.{field}", issues)
            if extra is not None:
                secrets.append(extra)  # the provider reads them itself; the redactor must know them
        try:
            built[name] = cls(name, pconf, key, pool)
        except ValueError as exc:
            issues.append(ConfigIssue(f"providers.{name}", str(exc)))
    return built


def _models_body(config: GatewayConfig) -> bytes:
    created = int(time.time())
    data = [
        {"id": r.alias, "object": "model", "created": created, "owned_by": r.target.partition("/")[0]}
        for r in config.models
    ]
    return orjson.dumps({"object": "list", "data": data})


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
    providers = _providers(config, pool, secrets, issues)
    identity = compile_identity(config, keys, issues, secrets)
    audit = compile_audit(config, issues, secrets)
    if issues:
        raise ConfigError(source, issues)
    routes = {}
    catalog = load_catalog()
    for route in config.models:
        provider_name, _, model = route.target.partition("/")
        kind = config.providers[provider_name].kind if provider_name in config.providers else provider_name
        override = Price(**route.price.model_dump()) if route.price is not None else None
        price = route_price(catalog, kind, model, override)
        routes[route.alias] = Route(route.alias, providers[provider_name], model, price)
    policies: list[Policy] = [
        *identity.front,
        RequestValidation(config.server.max_body_bytes, config.server.body_timeout_s),
        *identity.behind,
        *audit.policies,
    ]
    chain = Chain(policies, CallKind.LLM)
    chains = {**dict.fromkeys(SURFACES, chain), "models": Chain(identity.front, CallKind.LLM)}
    return Runtime(
        config=config,
        routes=MappingProxyType(routes),
        providers=MappingProxyType(providers),
        chains=MappingProxyType(chains),
        metrics=Metrics(),
        redactor=Redactor(s.reveal() for s in secrets),
        pool=pool,
        models_body=_models_body(config),
        observers=(*identity.observers, *([audit.trail] if audit.trail else [])),
        identity=identity.state,
    )
