"""Limits, budgets and agent-session caps at the ADMIT phase; settlement at exit.

``enter`` refuses a killed session outright (an in-memory set), then admits the call's plan
— every applicable rule and session cap in one atomic step, one Redis round trip at most —
reserving its estimated tokens and cost. ``exit`` settles the reservations with what the
call really used and hands the call to the spend ledger. Shadow-mode refusals, degraded
counters and alerts are recorded in ``ctx.decisions``.
"""

from __future__ import annotations

import time

from tollhouse.limits.alerts import Alert, AlertSender
from tollhouse.limits.counters import HOLD, CounterStore, Op, OpResult, Verdict
from tollhouse.limits.errors import LimitsUnavailable, SessionKilled
from tollhouse.limits.headers import RoomTuple, rate_headers
from tollhouse.limits.kills import KillSet
from tollhouse.limits.ledger import LedgerWriter, ledger_row
from tollhouse.limits.limiter import Limiter, refusal
from tollhouse.limits.plan import Plan, Planner
from tollhouse.limits.rules import LOOP, NANO_USD, Check
from tollhouse.limits.service import LimitsService
from tollhouse.limits.settle import charge
from tollhouse.pipeline.context import Decision, RequestContext
from tollhouse.pipeline.outcome import Deny, Outcome
from tollhouse.pipeline.phases import CallKind, Phase
from tollhouse.pipeline.policy import Policy

LIMITED_SURFACES = frozenset({"chat", "embeddings", "messages", "responses"})


class Limits(Policy):
    """See the module docstring."""

    name = "limits"
    phase = Phase.ADMIT
    kinds = frozenset({CallKind.LLM})

    def __init__(
        self,
        planner: Planner,
        limiter: Limiter,
        service: LimitsService,
        *,
        headers: bool = True,
        loop_kills: bool = False,
    ) -> None:
        self._planner = planner
        self._limiter = limiter
        self._local = limiter.local
        self._kills: KillSet = service.kills
        self._service = service
        self._ledger: LedgerWriter | None = service.ledger
        self._alerts: AlertSender = service.alerts
        self._headers = headers
        self._loop_kills = loop_kills
        self._plans: dict[int, tuple[Plan, CounterStore]] = {}  # id(ctx) → (plan, the store that admitted it)

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        if ctx.surface not in LIMITED_SURFACES:
            return None
        session = ctx.session_id
        if session and session in self._kills:
            killed = SessionKilled(
                f"session `{session[:64]}` was killed by an operator: every call is refused"
            )
            return Deny(killed, "session_killed", self.name)
        plan = self._planner.plan(ctx)
        store: CounterStore
        if self._local is not None:  # in-process counters: a plain call, no coroutine
            store = self._local
            verdict = store.admit_raw(plan.admission)
        else:
            admitted = await self._limiter.admit(plan)
            if admitted.degraded:
                ctx.decisions.append(
                    Decision(self.name, "degraded", f"{admitted.degraded}:{','.join(admitted.labels)}")
                )
            if admitted.verdict is None:
                error = LimitsUnavailable(
                    f"limits {', '.join(admitted.labels)} cannot be checked right now and fail closed",
                    headers={"retry-after": "1"},
                )
                return Deny(error, "limits_unavailable", self.name)
            verdict, store = admitted.verdict, admitted.store
        rooms = self._observe(ctx, plan, verdict)
        if not verdict.admitted:
            return self._refuse(ctx, plan, verdict, rooms)
        if rooms and self._headers:
            headers = rate_headers(rooms)
            if ctx.response_headers is None:
                ctx.response_headers = headers
            else:
                ctx.response_headers.extend(headers)
        self._plans[id(ctx)] = (plan, store)
        return None

    def _refuse(self, ctx: RequestContext, plan: Plan, verdict: Verdict, rooms: list[RoomTuple]) -> Deny:
        found = refusal(plan, verdict)
        assert found is not None  # not admitted means an enforced op failed
        check, error = found
        for name, value in rate_headers(rooms):
            error.headers.setdefault(name.decode(), value.decode())
        if check.refusal == LOOP and self._loop_kills and ctx.session_id:
            self._service.kill_later(ctx.session_id, f"loop detected ({check.label})")
        return Deny(error, f"{check.refusal}:{check.label}", self.name)

    def _observe(self, ctx: RequestContext, plan: Plan, verdict: Verdict) -> list[RoomTuple]:
        """One pass over the results: the room left for the headers; shadow refusals and fired
        alerts into the decisions (and alerts to the webhook)."""
        rooms: list[RoomTuple] = []  # plain tuples in Room's field order: cheaper to build
        admitted = verdict.admitted
        ops = plan.admission.ops
        for i, (check, result) in enumerate(zip(plan.checks, verdict.results, strict=True)):
            _, kind, amount, limit, _, enforce, _ = ops[i]
            ok, used, held, reset_ms, fired = result
            if not enforce:
                if not ok:
                    ctx.decisions.append(Decision(self.name, "shadow_deny", f"{check.refusal}:{check.label}"))
            elif check.family:
                left = limit - used - amount if admitted else limit - used
                rooms.append((check.family, limit, left - held if kind == HOLD else left, reset_ms))
            if fired:
                self._alert(ctx, ops[i], check, result)
        return rooms

    def _alert(self, ctx: RequestContext, op: Op, check: Check, raw: OpResult) -> None:
        result = OpResult(*raw)  # the in-process store answers with plain tuples
        unit = NANO_USD if check.settle == "spend" else 1
        level = (result.used + result.held + op.amount) / unit
        for threshold in result.fired:
            fraction = round(threshold / op.limit, 4)
            alert = Alert(
                check.label, op.key, fraction, level, op.limit / unit, check.settle or "count", time.time()
            )
            self._alerts.fire(alert)
            ctx.decisions.append(Decision(self.name, "alert", f"{check.label}:{fraction:g}"))

    async def exit(self, ctx: RequestContext) -> None:
        entry = self._plans.pop(id(ctx), None)
        if entry is None:
            return
        plan, store = entry
        result = charge(plan, ctx)
        store.settle(result.settlement)
        if self._ledger is not None and ctx.provider:
            self._ledger.record(ledger_row(ctx, result.cost_nusd, result.estimated))
