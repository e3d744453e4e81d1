"""Which counters one call touches: an ``Op`` per applicable rule and session cap.

The planner is built once from the config. Which rules apply to a (principal, model) pair,
under which counter keys, is worked out on the pair's first call and kept (a "route"); later
calls only fill in their amounts — the estimated tokens or cost, tool results — so no key is
formatted and no rule is matched per call. Each op comes with a ``Check`` saying what its
refusal means.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import NamedTuple

from tollhouse.limits.config import SessionCaps
from tollhouse.limits.counters import COUNT, FIRST_SEEN, HOLD, Admission, Expiry, Op
from tollhouse.limits.estimate import Estimate, ModelTerms, estimate, tool_results
from tollhouse.limits.rules import LOOP, NANO_USD, SESSION, Check, CompiledRule, dimensions, key_part
from tollhouse.pipeline.context import RequestContext


class Plan(NamedTuple):
    admission: Admission
    checks: tuple[Check, ...]
    estimate: Estimate | None
    terms: ModelTerms | None


class Planner:
    """Builds each call's ``Plan``."""

    def __init__(
        self,
        rules: tuple[CompiledRule, ...],
        sessions: SessionCaps | None,
        prefix: str,
        terms: Mapping[str, ModelTerms],
        targets: Mapping[str, str],
        lease_ms: int,
        bytes_per_token: float,
        default_output: int,
    ) -> None:
        self._rules = rules
        self._sessions = sessions
        self._prefix = prefix
        self._terms = terms
        self._targets = targets
        self._lease_ms = lease_ms
        self._bytes_per_token = bytes_per_token
        self._default_output = default_output
        self._by_session = any("session" in r.by or any(d == "session" for d, _ in r.match) for r in rules)
        self._routes: dict[tuple[object, ...], _Route] = {}
        self._session_spend = sessions is not None and sessions.max_spend is not None
        self._session_expiry = Expiry("i", int(sessions.idle_ttl_s * 1000)) if sessions else None
        closed = sessions is not None and sessions.degraded == "fail_closed"
        self._session_checks = {  # built once: shared by every call's plan
            name: Check(f"session.{name}", refusal, settle, "", closed, unit)
            for name, refusal, settle, unit in (
                ("max_calls", SESSION, "", "calls"),
                ("max_tool_calls", SESSION, "", "tool calls"),
                ("max_spend", SESSION, "spend", "USD"),
                ("max_duration", SESSION, "", "ms"),
                ("loop", LOOP, "", "repeats"),
            )
        }

    def plan(self, ctx: RequestContext) -> Plan:
        now_ms = int(time.time() * 1000)
        p = ctx.principal
        who = (p.kind, p.id, p.key_id, p.team_id, p.org_id) if p is not None else None
        session = ctx.session_id
        route = self._routes.get((who, ctx.model, session if self._by_session else None))
        if route is None or not route.start_ms <= now_ms < route.end_ms:
            route = self._new_route(ctx, who, now_ms)
        terms = route.terms
        cost: Estimate | None = None
        if route.estimate or (session and self._session_spend):
            cost = estimate(ctx, terms, self._bytes_per_token, self._default_output)
        if route.fixed:
            ops, checks = route.ops, route.checks
        else:
            ops, checks = _amounts(ctx, route, cost)
        if session and self._sessions is not None:
            op_list, check_list = list(ops), list(checks)
            self._session_ops(ctx, session, cost, op_list, check_list)
            ops, checks = tuple(op_list), tuple(check_list)
        rid = f"{_rid_prefix[0]}{next(_rid_counter)}"
        return _new(Plan, (_new(Admission, (rid, ops, self._lease_ms)), checks, cost, terms))

    def _new_route(self, ctx: RequestContext, who: tuple[str | None, ...] | None, now_ms: int) -> _Route:
        route = self._route(ctx, now_ms)
        if len(self._routes) >= _ROUTES_MAX:
            self._routes.clear()  # many principals: start over rather than grow without bound
        self._routes[(who, ctx.model, ctx.session_id if self._by_session else None)] = route
        return route

    def _route(self, ctx: RequestContext, now_ms: int) -> _Route:
        """Which rules apply to this principal and model, under which keys: worked out once per
        (principal, model[, session]) and window, then reused by every call that shares them."""
        dims = dimensions(ctx, self._targets)
        ops: list[Op] = []
        checks: list[Check] = []
        sources: list[int] = []
        scopes: dict[tuple[str, ...], str] = {}
        start, end = _EARLIEST, _LATEST
        for rule in self._rules:
            if not rule.applies(dims):
                continue
            key, window = rule.counter(self._prefix, dims, scopes, now_ms)
            if window.mode == "c":
                start, end = max(start, window.at_ms - window.ttl_ms), min(end, window.at_ms)
            if rule.metric == "tool_calls":
                source = _TOOLS
            elif rule.kind == HOLD and rule.metric != "concurrent":
                source = _SOURCES[rule.metric]
            else:
                source = _ONE
            ops.append(Op(key, rule.kind, 1, rule.limit, window, rule.enforce, rule.alerts))
            checks.append(rule.check)
            sources.append(source)
        return _Route(
            tuple(ops), tuple(checks), tuple(sources), self._terms.get(ctx.model), start, end,
            all(s == _ONE for s in sources), any(s not in (_ONE, _TOOLS) for s in sources),
        )  # fmt: skip

    def _session_ops(
        self, ctx: RequestContext, session: str, cost: Estimate | None, ops: list[Op], checks: list[Check]
    ) -> None:
        caps = self._sessions
        assert caps is not None
        assert self._session_expiry is not None
        enforce, idle, named = caps.mode == "enforce", self._session_expiry, self._session_checks
        base = f"{self._prefix}session:{key_part(session)}:"
        if caps.max_calls is not None:
            ops.append(Op(base + "calls", COUNT, 1, caps.max_calls, idle, enforce))
            checks.append(named["max_calls"])
        if caps.max_tool_calls is not None:
            tools = tool_results(ctx.payload, ctx.dialect)
            if tools:
                ops.append(Op(base + "tools", COUNT, tools, caps.max_tool_calls, idle, enforce))
                checks.append(named["max_tool_calls"])
        if caps.max_spend is not None and cost is not None:
            limit = round(caps.max_spend * NANO_USD)
            ops.append(Op(base + "spend", HOLD, cost.cost_nusd, limit, idle, enforce))
            checks.append(named["max_spend"])
        if caps.max_duration_s is not None:
            ops.append(Op(base + "start", FIRST_SEEN, 0, int(caps.max_duration_s * 1000), idle, enforce))
            checks.append(named["max_duration"])
        loop = caps.loop
        if loop is not None:
            digest = hashlib.sha256(ctx.body).hexdigest()[:24]
            window = Expiry("a", int(loop.window_s * 1000))
            ops.append(Op(f"{base}loop:{digest}", COUNT, 1, loop.max_repeats, window, enforce))
            checks.append(named["loop"])


def _amounts(
    ctx: RequestContext, route: _Route, cost: Estimate | None
) -> tuple[tuple[Op, ...], tuple[Check, ...]]:
    """The route's ops with this call's amounts: estimated tokens or cost, tool results."""
    ops: list[Op] = []
    checks: list[Check] = []
    tools = -1
    for op, check, source in zip(route.ops, route.checks, route.sources, strict=True):
        if source == _ONE:
            ops.append(op)
        else:
            if source == _TOOLS:
                tools = tool_results(ctx.payload, ctx.dialect) if tools < 0 else tools
                if not tools:
                    continue  # no tool results in this call: the rule has nothing to count
                amount = tools
            else:
                assert cost is not None
                amount = cost[source] if source < _TOKENS else cost[0] + cost[1]
            key, kind, _, limit, expiry, enforce, alerts = op
            ops.append(_new(Op, (key, kind, amount, limit, expiry, enforce, alerts)))
        checks.append(check)
    return tuple(ops), tuple(checks)


_new = tuple.__new__  # a NamedTuple without a Python-level __new__ call: this runs per call
_ROUTES_MAX = 8192
_EARLIEST, _LATEST = -(1 << 62), 1 << 62
# Where an op's amount comes from: an index into ``Estimate``, the sum of its tokens, a
# constant 1 (requests, concurrency slots), or the call's tool results.
_SOURCES = {"input_tokens": 0, "output_tokens": 1, "spend": 2, "tokens": 3}
_TOKENS, _ONE, _TOOLS = 3, 4, 5


@dataclass(slots=True)
class _Route:
    """The ops one (principal, model) pair's calls share, with amounts still to fill in."""

    ops: tuple[Op, ...]
    checks: tuple[Check, ...]
    sources: tuple[int, ...]
    terms: ModelTerms | None
    start_ms: int  # the calendar windows in the keys hold from here …
    end_ms: int  # … to here; outside, the keys are worked out again
    fixed: bool  # every amount is 1: ``ops`` is the call's admission as it stands
    estimate: bool  # some amount is the call's estimated tokens or cost


# Reservation ids: a random prefix per process (reset in a forked child) and a counter; unique
# across replicas without a system call per request.
_rid_counter = itertools.count()
_rid_prefix = [os.urandom(6).hex() + "-"]


def _new_rid_prefix() -> None:
    _rid_prefix[0] = os.urandom(6).hex() + "-"


os.register_at_fork(after_in_child=_new_rid_prefix)
