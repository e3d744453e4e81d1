"""Ordering targets: priority tiers first, then the strategy within each tier."""

from __future__ import annotations

import random
from collections import Counter

from tests.unit.routing.doubles import ScriptedProvider, target
from tollhouse.catalog.pricing import Price
from tollhouse.routing.strategy import order
from tollhouse.routing.target import RouteEntry, Target


def ids(entries: list[RouteEntry]) -> list[str]:
    return [e.target.id for e in entries]


def make(name: str, price: Price | None = None) -> Target:
    return target(ScriptedProvider(name), price=price)


def test_priority_keeps_the_listed_order_within_tiers_and_tiers_in_order() -> None:
    a, b, c = make("a"), make("b"), make("c")
    listed = [RouteEntry(a, priority=1), RouteEntry(b, priority=0), RouteEntry(c, priority=1)]
    assert ids(order(listed, "priority", random.Random(1))) == ["b/m", "a/m", "c/m"]


def test_weighted_follows_the_weights() -> None:
    rng = random.Random(42)
    listed = [RouteEntry(make("a"), weight=3), RouteEntry(make("b"), weight=1)]
    firsts = Counter(order(listed, "weighted", rng)[0].target.id for _ in range(4000))
    assert 0.72 < firsts["a/m"] / 4000 < 0.78
    assert all(len(order(listed, "weighted", rng)) == 2 for _ in range(10))  # the rest follow


def test_latency_prefers_unmeasured_then_fastest() -> None:
    fast, slow, new = make("fast"), make("slow"), make("new")
    fast.stats.observe(0.1, 0.3)
    slow.stats.observe(0.9, 0.3)
    listed = [RouteEntry(slow), RouteEntry(fast), RouteEntry(new)]
    assert ids(order(listed, "latency", random.Random(1))) == ["new/m", "fast/m", "slow/m"]


def test_latency_ewma_moves_towards_new_samples() -> None:
    t = make("a")
    t.stats.observe(1.0, 0.5)
    t.stats.observe(0.0, 0.5)
    assert t.stats.ewma_s == 0.5


def test_least_busy_picks_the_fewest_in_flight() -> None:
    a, b = make("a"), make("b")
    a.stats.in_flight = 3
    b.stats.in_flight = 1
    assert ids(order([RouteEntry(a), RouteEntry(b)], "least_busy", random.Random(1))) == ["b/m", "a/m"]


def test_cost_orders_by_price_with_unknown_prices_last() -> None:
    dear, cheap, unknown = make("dear", Price(10, 30)), make("cheap", Price(0.1, 0.4)), make("unknown")
    listed = [RouteEntry(unknown), RouteEntry(dear), RouteEntry(cheap)]
    assert ids(order(listed, "cost", random.Random(1))) == ["cheap/m", "dear/m", "unknown/m"]
