"""Config → routes: each alias becomes a direct ``Route`` or one served by a ``Router``.

An alias with one target and no reliability settings (no `retry`, `deadline_s`, `timeouts`,
`fallbacks` or `when`, here or in the `routing:` section) keeps the direct path: its
provider is called with nothing in between. Every other alias gets a router.
"""

from __future__ import annotations

import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tollhouse.catalog.lookup import find, route_price
from tollhouse.catalog.pricing import Price
from tollhouse.catalog.table import ModelInfo
from tollhouse.config.load import ConfigIssue
from tollhouse.config.runtime import Route
from tollhouse.config.secrets import Secret, SecretError
from tollhouse.providers.protocol import Provider
from tollhouse.routing.breaker import CircuitBreaker
from tollhouse.routing.conditions import Condition
from tollhouse.routing.config import AttemptTimeouts, RouteTarget, RoutingConfig
from tollhouse.routing.retry import Backoff
from tollhouse.routing.router import Router
from tollhouse.routing.target import RouteEntry, Target, TargetStats

if TYPE_CHECKING:
    from tollhouse.config.runtime import Observer
    from tollhouse.config.schema import GatewayConfig, ModelRoute


@dataclass(frozen=True, slots=True)
class RoutingParts:
    """What ``compile_config`` puts into the runtime for routing."""

    routes: dict[str, Route]
    observers: tuple[Observer, ...] = ()


def route_targets(route: ModelRoute) -> list[RouteTarget]:
    """An alias's targets, whether written as `target` or `targets`."""
    return list(route.targets) if route.targets else [RouteTarget(target=route.target or "")]


def target_refs(models: list[ModelRoute]) -> Iterator[tuple[str, str]]:
    """Every ``provider/model`` the aliases name, with its config path (for error messages)."""
    for i, route in enumerate(models):
        if route.target is not None:
            yield f"models.{i}.target", route.target
        for j, t in enumerate(route.targets):
            yield f"models.{i}.targets.{j}.target", t.target
        for kind in ("context_window", "content_filter"):
            for j, ref in enumerate(getattr(route.fallbacks, kind)):
                yield f"models.{i}.fallbacks.{kind}.{j}", ref


def _routed(route: ModelRoute, settings: RoutingConfig) -> bool:
    targets = route_targets(route)
    return (
        len(targets) > 1
        or targets[0].when is not None
        or route.retry is not None
        or route.deadline_s is not None
        or route.timeouts is not None
        or bool(route.fallbacks.context_window or route.fallbacks.content_filter)
        or settings.retry is not None
        or settings.deadline_s is not None
        or settings.timeouts != AttemptTimeouts()
    )


class _Targets:
    """One ``Target`` per ``provider/model``, shared by the aliases that name it."""

    def __init__(
        self,
        config: GatewayConfig,
        providers: Mapping[str, Provider],
        catalog: Mapping[tuple[str, str], ModelInfo],
    ) -> None:
        self.config = config
        self._providers = providers
        self._catalog = catalog
        self.by_id: dict[str, Target] = {}

    def _kind(self, provider: str) -> str:
        found = self.config.providers.get(provider)
        return found.kind if found is not None else provider

    def price(self, ref: str, override: Price | None) -> Price | None:
        provider, _, model = ref.partition("/")
        return route_price(self._catalog, self._kind(provider), model, override)

    def get(self, ref: str, override: Price | None, window: int | None = None) -> Target:
        found = self.by_id.get(ref)
        if found is not None:
            return found
        provider, _, model = ref.partition("/")
        info = find(self._catalog, self._kind(provider), model)
        circuit = self.config.routing.circuit
        target = Target(
            id=ref,
            provider=self._providers[provider],
            model=model,
            price=self.price(ref, override),
            context_window=window or (info.context_window if info is not None else None),
            stats=TargetStats(),
            breaker=CircuitBreaker(ref, circuit) if circuit is not None else None,
        )
        self.by_id[ref] = target
        return target


def _router(route: ModelRoute, registry: _Targets, override: Price | None, rng: random.Random) -> Router:
    settings = registry.config.routing
    entries = [
        RouteEntry(
            registry.get(t.target, override, t.context_window),
            weight=t.weight,
            priority=t.priority,
            condition=Condition(t.when) if t.when is not None else None,
        )
        for t in route_targets(route)
    ]
    retry = route.retry or settings.retry
    return Router(
        route.alias,
        entries,
        strategy=route.strategy,
        backoff=Backoff(retry, rng) if retry is not None else None,
        deadline_s=route.deadline_s or settings.deadline_s,
        timeouts=route.timeouts or settings.timeouts,
        context_window=[RouteEntry(registry.get(r, override)) for r in route.fallbacks.context_window],
        content_filter=[RouteEntry(registry.get(r, override)) for r in route.fallbacks.content_filter],
        alpha=settings.latency_ewma_alpha,
        headers=settings.response_headers,
        rng=rng,
    )


def _dearest(prices: list[Price | None]) -> Price | None:
    known = [p for p in prices if p is not None]
    return max(known, key=lambda p: p.input + p.output) if known else None


def _redis_url(config: GatewayConfig, issues: list[ConfigIssue], secrets: list[Secret]) -> str | None:
    if config.redis.url is None:
        issues.append(ConfigIssue("routing.shared_state", "`redis` needs `redis.url`"))
        return None
    try:
        secret = config.redis.url.resolve()
    except SecretError as exc:
        issues.append(ConfigIssue("redis.url", str(exc)))
        return None
    secrets.append(secret)
    return secret.reveal()


def build_routing(
    config: GatewayConfig,
    providers: Mapping[str, Provider],
    catalog: Mapping[tuple[str, str], ModelInfo],
    issues: list[ConfigIssue],
    secrets: list[Secret],
) -> RoutingParts:
    """Routes for every alias, plus the background services routing needs (if any)."""
    registry = _Targets(config, providers, catalog)
    rng = random.Random()  # noqa: S311 - load spreading, not security
    routes: dict[str, Route] = {}
    routers: list[Router] = []
    for route in config.models:
        override = Price(**route.price.model_dump()) if route.price is not None else None
        if not _routed(route, config.routing):
            provider, _, model = (route.target or route.targets[0].target).partition("/")
            price = registry.price(f"{provider}/{model}", override)
            routes[route.alias] = Route(route.alias, providers[provider], model, price)
            continue
        router = _router(route, registry, override, rng)
        routers.append(router)
        first = router.entries[0].target
        dearest = _dearest([t.price for t in router.targets])
        routes[route.alias] = Route(route.alias, router, first.model, dearest)
    return RoutingParts(routes, _observers(config, registry, issues, secrets))


def _observers(
    config: GatewayConfig, registry: _Targets, issues: list[ConfigIssue], secrets: list[Secret]
) -> tuple[Observer, ...]:
    settings = config.routing
    targets = list(registry.by_id.values())
    if not targets:
        return ()
    observers: list[Observer] = []
    if settings.health_checks is not None:
        from tollhouse.routing.health import HealthChecker

        observers.append(HealthChecker(targets, settings.health_checks))
    if settings.shared_state == "redis" and settings.circuit is not None:
        url = _redis_url(config, issues, secrets)
        if url is not None:
            from tollhouse.routing.shared_state import CircuitSync

            observers.append(CircuitSync(url, targets, settings.sync_interval_s))
    return tuple(observers)
