"""Ordering an alias's targets for one call: priority tiers first, the strategy within a tier.

The order is the fallback order too: the first target gets the call, the next one gets it
if the first fails in a way that allows a fallback.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

from tollhouse.routing.target import RouteEntry

_INF = math.inf


def _weighted(entries: list[RouteEntry], rng: random.Random) -> list[RouteEntry]:
    # Weighted sampling without replacement (Efraimidis-Spirakis): the first is picked with
    # probability weight / total, and the rest follow in the same weighted-random way.
    return sorted(entries, key=lambda e: rng.random() ** (1.0 / e.weight), reverse=True)


def _latency(entries: list[RouteEntry], rng: random.Random) -> list[RouteEntry]:
    # Unmeasured targets go first so every target gets a latency figure.
    return sorted(entries, key=lambda e: -1.0 if e.target.stats.ewma_s is None else e.target.stats.ewma_s)


def _least_busy(entries: list[RouteEntry], rng: random.Random) -> list[RouteEntry]:
    return sorted(entries, key=lambda e: (e.target.stats.in_flight, rng.random()))


def _cost(entries: list[RouteEntry], rng: random.Random) -> list[RouteEntry]:
    return sorted(entries, key=lambda e: _INF if e.target.unit_price is None else e.target.unit_price)


def _listed(entries: list[RouteEntry], rng: random.Random) -> list[RouteEntry]:
    return entries


Orderer = Callable[[list[RouteEntry], random.Random], list[RouteEntry]]

ORDERERS: dict[str, Orderer] = {
    "priority": _listed,
    "weighted": _weighted,
    "latency": _latency,
    "least_busy": _least_busy,
    "cost": _cost,
}


def order(entries: Sequence[RouteEntry], strategy: str, rng: random.Random) -> list[RouteEntry]:
    """``entries`` in the order to try them: by ``priority`` tier, then by ``strategy``."""
    within = ORDERERS[strategy]
    tiers = sorted({e.priority for e in entries})
    if len(tiers) == 1:
        return within(list(entries), rng)
    out: list[RouteEntry] = []
    for tier in tiers:
        out.extend(within([e for e in entries if e.priority == tier], rng))
    return out
