"""Limit rules compiled for the hot path: which calls a rule counts, and under which key.

A call's dimensions (key, team, session, model, …) are read once per call; each rule then
costs a few tuple and dict operations to decide whether it applies and name its counter.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from tollhouse.limits.config import LimitRule
from tollhouse.limits.counters import COUNT, HOLD, Expiry
from tollhouse.limits.windows import calendar_bounds, expiry
from tollhouse.pipeline.context import RequestContext

NANO_USD = 1_000_000_000  # spend is counted in nano-dollars: integers, exact sums
_SAFE = re.compile(r"[A-Za-z0-9._@/-]{1,96}")

# What a refusal is: rate (429 + Retry-After), budget (429, its own code), session caps (403).
RATE, BUDGET, SESSION, LOOP = "rate", "budget", "session", "loop"
_SETTLE = {
    "tokens": "tokens",
    "input_tokens": "input_tokens",
    "output_tokens": "output_tokens",
    "spend": "spend",
}
_FAMILY = {"requests": "requests", "tokens": "tokens", "input_tokens": "tokens", "output_tokens": "tokens"}
_UNIT = {
    "requests": "requests",
    "tokens": "tokens",
    "input_tokens": "input tokens",
    "output_tokens": "output tokens",
    "concurrent": "concurrent requests",
    "spend": "USD",
    "tool_calls": "tool calls",
}


@dataclass(frozen=True, slots=True)
class Check:
    """What an op stands for: built once per rule, shared by every call's plan."""

    label: str  # the rule's name, or `session.max_calls` and the like
    refusal: str  # RATE, BUDGET, SESSION or LOOP
    settle: str  # what a HOLD settles with: tokens, input_tokens, output_tokens, spend, nothing
    family: str = ""  # the x-ratelimit header family: requests, tokens, or none
    fail_closed: bool = False
    unit: str = ""  # what the limit counts, for messages: requests, tokens, USD, ms, …


Dimensions = dict[str, str | None]


def dimensions(ctx: RequestContext, targets: Mapping[str, str]) -> Dimensions:
    """The values a rule can count by, for this call (None: the call has none)."""
    p = ctx.principal
    key = principal = team = org = agent = None
    if p is not None:
        key = p.key_id or (p.id if p.kind == "master" else None)
        principal = f"{p.kind}:{p.id}"
        team, org = p.team_id, p.org_id
        agent = p.id if p.kind == "agent" else None
    return {
        "global": "*",
        "key": key,
        "principal": principal,
        "team": team,
        "org": org,
        "agent": agent,
        "session": ctx.session_id,
        "model": ctx.model or None,
        "provider": targets.get(ctx.model),
    }


def key_part(value: str) -> str:
    """A value as it may appear in a counter key: short and without separators, else hashed."""
    if _SAFE.fullmatch(value):
        return value
    return "#" + hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Matcher:
    exact: frozenset[str]
    prefixes: tuple[str, ...]

    def __call__(self, value: str | None) -> bool:
        if value is None:
            return False
        return value in self.exact or any(value.startswith(p) for p in self.prefixes)


def _matcher(values: list[str]) -> Matcher:
    exact = frozenset(v for v in values if not v.endswith("*"))
    return Matcher(exact, tuple(v[:-1] for v in values if v.endswith("*")))


def describe(amount: int, unit: str) -> str:
    """A counter amount as people read it: ``$0.5000``, ``90s``, ``600 requests``."""
    if unit == "USD":
        return f"${amount / NANO_USD:.4f}"
    if unit == "ms":
        return f"{amount / 1000:g}s"
    return f"{amount} {unit}"


def amount_of(metric: str, limit: float) -> int:
    """A configured limit in the counter's integer unit."""
    return round(limit * NANO_USD) if metric == "spend" else int(limit)


@dataclass(slots=True)
class CompiledRule:
    """One ``LimitRule``, ready for the hot path."""

    name: str
    metric: str
    limit: int  # in the counter unit (nano-USD for spend)
    by: tuple[str, ...]
    match: tuple[tuple[str, Matcher], ...]
    window: str
    calendar: bool
    enforce: bool
    fail_closed: bool
    alerts: tuple[int, ...]
    alert_fractions: tuple[float, ...]
    kind: int
    idle_ms: int
    check: Check
    window_expiry: Expiry  # anchored or idle windows: the same for every call
    _bounds: tuple[int, int] = field(default=(0, 0))  # the current calendar window, cached

    def applies(self, dims: Dimensions) -> bool:
        for dim in self.by:
            if dims[dim] is None:
                return False
        for dim, test in self.match:  # noqa: SIM110 (a plain loop: no generator per call)
            if not test(dims[dim]):
                return False
        return True

    def counter(
        self, prefix: str, dims: Dimensions, scopes: dict[tuple[str, ...], str], now_ms: int
    ) -> tuple[str, Expiry]:
        """The counter's key for this call and its window. ``scopes`` caches scope strings per
        call, for rules that count by the same dimensions."""
        scope = scopes.get(self.by)
        if scope is None:
            scope = scopes[self.by] = "|".join(key_part(dims[d] or "") for d in self.by) if self.by else "*"
        key = f"{prefix}{self.name}:{scope}"
        if self.calendar:
            start, end = self._bounds
            if not start <= now_ms < end:
                start, end = self._bounds = calendar_bounds(self.window, now_ms)
            return f"{key}:{start}", Expiry("c", end - start, end)
        return key, self.window_expiry


_FOREVER_MS = 400 * 86_400_000  # `window: none` outside sessions: kept until unused for this long


def compile_rule(rule: LimitRule, lease_ms: int, session_idle_ms: int) -> CompiledRule:
    """``lease_ms``: how long an unsettled slot lives; ``session_idle_ms``: when a session is forgotten."""
    limit = amount_of(rule.metric, rule.limit)
    window = "none" if rule.metric == "concurrent" else rule.window
    kind = COUNT if rule.metric in ("requests", "tool_calls") else HOLD
    by = tuple(d for d in rule.by if d != "global")
    idle_ms = lease_ms if rule.metric == "concurrent" else session_idle_ms if "session" in by else _FOREVER_MS
    refusal = BUDGET if rule.metric == "spend" else RATE
    check = Check(
        rule.name,
        refusal,
        _SETTLE.get(rule.metric, ""),
        _FAMILY.get(rule.metric, ""),
        rule.degraded == "fail_closed",
        _UNIT[rule.metric],
    )
    return CompiledRule(
        name=rule.name,
        metric=rule.metric,
        limit=limit,
        by=by,
        match=tuple((dim, _matcher(values)) for dim, values in rule.match.items()),
        window=window,
        calendar=rule.calendar,
        enforce=rule.mode == "enforce",
        fail_closed=check.fail_closed,
        alerts=tuple(max(1, int(limit * f)) for f in rule.alert_at),
        alert_fractions=tuple(rule.alert_at),
        kind=kind,
        idle_ms=idle_ms,
        check=check,
        window_expiry=expiry(window, False, 0, idle_ms)[0],
    )
