"""Targets: a provider + model an alias can reach, with the live numbers strategies read."""

from __future__ import annotations

from dataclasses import dataclass

from tollhouse.catalog.pricing import Price
from tollhouse.providers.protocol import Provider
from tollhouse.routing.breaker import CircuitBreaker
from tollhouse.routing.conditions import Condition


@dataclass(slots=True)
class TargetStats:
    """What this process has seen of a target: calls in flight, latency, active health."""

    in_flight: int = 0
    ewma_s: float | None = None  # time to first byte (a whole answer, or a stream's first event)
    healthy: bool = True  # false while active health checks fail
    failed_checks: int = 0

    def observe(self, seconds: float, alpha: float) -> None:
        previous = self.ewma_s
        self.ewma_s = seconds if previous is None else previous + alpha * (seconds - previous)


@dataclass(frozen=True, slots=True)
class Target:
    """One ``provider/model``. Shared by every alias that names it, so their traffic and its
    failures land in one set of numbers and one breaker."""

    id: str  # "provider/model"
    provider: Provider
    model: str
    price: Price | None
    context_window: int | None
    stats: TargetStats
    breaker: CircuitBreaker | None

    def available(self) -> bool:
        """Healthy by active checks and admitted by the breaker (which may reserve a probe)."""
        return self.stats.healthy and (self.breaker is None or self.breaker.allow())

    @property
    def unit_price(self) -> float | None:
        """Input plus output price per million tokens, for `strategy: cost`."""
        return None if self.price is None else self.price.input + self.price.output


@dataclass(frozen=True, slots=True)
class RouteEntry:
    """A target as one alias uses it: its weight, tier and condition there."""

    target: Target
    weight: float = 1.0
    priority: int = 0
    condition: Condition | None = None
