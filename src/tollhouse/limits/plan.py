"""Which counters one call touches: an ``Op`` per applicable rule and session cap.

The planner is built once from the config. Per call it reads the call's dimensions, asks
each rule whether it applies and under which key, and estimates the call's cost only when
a rule needs it. Each op comes with a ``Check`` saying what its refusal means.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Mapping
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
        dims = dimensions(ctx, self._targets)
        terms = self._terms.get(ctx.model)
        ops: list[Op] = []
        checks: list[Check] = []
        cost: Estimate | None = None
        tools = -1
        scopes: dict[tuple[str, ...], str] = {}
        for rule in self._rules:
            if not rule.applies(dims):
                continue
            if rule.metric == "tool_calls":
                tools = tool_results(ctx.payload, ctx.dialect) if tools < 0 else tools
                if not tools:
                    continue
                amount = tools
            elif rule.kind == HOLD and rule.metric != "concurrent":
                cost = cost or estimate(ctx, terms, self._bytes_per_token, self._default_output)
                amount = _amount(rule.metric, cost)
            else:
                amount = 1
            key, window = rule.counter(self._prefix, dims, scopes, now_ms)
            ops.append(Op(key, rule.kind, amount, rule.limit, window, rule.enforce, rule.alerts))
            checks.append(rule.check)
        if self._sessions is not None and ctx.session_id:
            if self._sessions.max_spend is not None:
                cost = cost or estimate(ctx, terms, self._bytes_per_token, self._default_output)
            self._session_ops(ctx, ctx.session_id, cost, ops, checks)
        rid = os.urandom(9).hex()
        return Plan(Admission(rid, tuple(ops), self._lease_ms), tuple(checks), cost, terms)

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


def _amount(metric: str, cost: Estimate) -> int:
    if metric == "spend":
        return cost.cost_nusd
    if metric == "input_tokens":
        return cost.input_tokens
    if metric == "output_tokens":
        return cost.output_tokens
    return cost.tokens
