"""Config → the limits parts of the runtime: the policy, its stores, and its background service."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tollhouse.catalog.lookup import find
from tollhouse.catalog.table import load as load_catalog
from tollhouse.config.load import ConfigIssue
from tollhouse.config.secrets import Secret, SecretError, SecretRef
from tollhouse.limits.alerts import AlertSender
from tollhouse.limits.config import LimitsConfig
from tollhouse.limits.counters import CounterStore
from tollhouse.limits.estimate import ModelTerms
from tollhouse.limits.kills import KillSet
from tollhouse.limits.ledger import LedgerWriter
from tollhouse.limits.limiter import Limiter
from tollhouse.limits.memory import MemoryStore
from tollhouse.limits.plan import Planner
from tollhouse.limits.rules import compile_rule
from tollhouse.limits.service import LimitsService
from tollhouse.pipeline.policy import Policy

if TYPE_CHECKING:
    from tollhouse.config.runtime import Observer, Route
    from tollhouse.config.schema import GatewayConfig


@dataclass(frozen=True, slots=True)
class LimitsParts:
    policies: tuple[Policy, ...] = ()
    observers: tuple[Observer, ...] = ()


def _resolve(
    ref: SecretRef | None, path: str, issues: list[ConfigIssue], secrets: list[Secret]
) -> str | None:
    if ref is None:
        return None
    try:
        secret = ref.resolve()
    except SecretError as exc:
        issues.append(ConfigIssue(path, str(exc)))
        return None
    secrets.append(secret)
    return secret.reveal()


def model_terms(
    config: GatewayConfig, routes: Mapping[str, Route], default_output: int
) -> dict[str, ModelTerms]:
    """Price and maximum output per alias, for estimates."""
    catalog = load_catalog()
    terms = {}
    for alias, route in routes.items():
        name = route.provider.name
        kind = config.providers[name].kind if name in config.providers else name
        info = find(catalog, kind, route.upstream_model)
        max_output = info.max_output if info is not None and info.max_output else default_output
        terms[alias] = ModelTerms(route.price, max_output)
    return terms


def _store(
    limits: LimitsConfig, redis_url: str | None, issues: list[ConfigIssue]
) -> tuple[CounterStore, MemoryStore | None]:
    backend = limits.backend
    if backend == "auto":
        backend = "redis" if redis_url else "memory"
    if backend == "memory":
        return MemoryStore(), None
    if redis_url is None:
        issues.append(ConfigIssue("limits.backend", "the redis backend needs redis.url"))
        return MemoryStore(), None
    from tollhouse.limits.redis_store import RedisStore

    return RedisStore(redis_url, limits.redis_timeout_s, limits.redis_retry_s), MemoryStore()


def compile_limits(
    config: GatewayConfig, routes: Mapping[str, Route], issues: list[ConfigIssue], secrets: list[Secret]
) -> LimitsParts:
    """The limits policy and service for ``config`` (nothing when limits are off). No I/O."""
    limits = config.limits
    if not limits.active:
        return LimitsParts()
    for i, rule in enumerate(limits.rules):
        for j, alias in enumerate(rule.match.get("model", [])):
            if not alias.endswith("*") and alias not in routes:
                issues.append(
                    ConfigIssue(f"limits.rules.{i}.match.model.{j}", f"unknown model alias {alias!r}")
                )
    redis_url = _resolve(config.redis.url, "redis.url", issues, secrets)
    db_url = _resolve(config.database.url, "database.url", issues, secrets)
    webhook = _resolve(limits.alerts.webhook_url, "limits.alerts.webhook_url", issues, secrets)
    primary, fallback = _store(limits, redis_url, issues)
    lease_ms = int(limits.reservation_ttl_s * 1000)
    idle_ms = int(limits.sessions.idle_ttl_s * 1000) if limits.sessions else 86_400_000
    planner = Planner(
        tuple(compile_rule(rule, lease_ms, idle_ms) for rule in limits.rules),
        limits.sessions,
        limits.key_prefix,
        model_terms(config, routes, limits.estimate.default_max_output_tokens),
        {alias: f"{r.provider.name}/{r.upstream_model}" for alias, r in routes.items()},
        lease_ms,
        limits.estimate.bytes_per_token,
        limits.estimate.default_max_output_tokens,
    )
    ledger = limits.ledger
    service = LimitsService(
        db_url or "",
        config.database.migrate_on_start,
        KillSet(),
        limits.kill_poll_s,
        LedgerWriter(ledger.flush_interval_s, ledger.batch_max, ledger.queue_max) if ledger.enabled else None,
        AlertSender(webhook, limits.alerts.timeout_s),
        tuple(s for s in (primary, fallback) if s is not None),
    )
    loop_kills = bool(limits.sessions and limits.sessions.loop and limits.sessions.loop.kill_session)
    from tollhouse.policies.limits import Limits

    policy = Limits(
        planner, Limiter(primary, fallback), service, headers=limits.headers, loop_kills=loop_kills
    )
    return LimitsParts((policy,), (service,))
