"""What the router did for one call: every attempt, the target that answered, the time it took.

The trace lives on the request context (``ctx.routing``) for the audit log, the cost
(``Route.charge`` prices the target that answered) and the response headers.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from tollhouse.catalog.pricing import Price

OK = "ok"


@dataclass(frozen=True, slots=True)
class Attempt:
    """One call to one target: ``outcome`` is ``ok``, an error code, or ``skipped:<why>``."""

    target: str  # "provider/model"
    outcome: str
    duration_s: float = 0.0


@dataclass(slots=True)
class RoutingTrace:
    """The router's record of one call, filled as it goes."""

    alias: str
    strategy: str
    attempts: list[Attempt] = field(default_factory=list)
    target: str | None = None  # the target that answered
    price: Price | None = None  # its price (None: unknown, no cost charged)
    waited_s: float = 0.0  # time spent on upstream attempts and retry backoff, not in the gateway

    @property
    def calls(self) -> int:
        """Upstream calls made (skipped targets are not calls)."""
        return sum(1 for a in self.attempts if not a.outcome.startswith("skipped"))

    def add(self, target: str, outcome: str, duration_s: float) -> None:
        self.attempts.append(Attempt(target, outcome, duration_s))
        self.waited_s += duration_s

    def to_json(self) -> dict[str, object]:
        """The trace as the audit log stores it."""
        return {
            "alias": self.alias,
            "strategy": self.strategy,
            "target": self.target,
            "attempts": [
                {"target": a.target, "outcome": a.outcome, "ms": round(a.duration_s * 1000, 3)}
                for a in self.attempts
            ],
        }

    def headers(self, started: float) -> list[tuple[bytes, bytes]]:
        """``x-tollhouse-target``, ``-attempts`` and ``-overhead-ms`` (the gateway's own time so
        far: everything since the call arrived except waiting on upstreams and backoff)."""
        overhead_ms = max(time.perf_counter() - started - self.waited_s, 0.0) * 1000
        out = [
            (b"x-tollhouse-attempts", str(self.calls).encode()),
            (b"x-tollhouse-overhead-ms", f"{overhead_ms:.3f}".encode()),
        ]
        if self.target is not None:
            out.append((b"x-tollhouse-target", self.target.encode()))
        return out
