"""What the checkpoint did within one call, as record fields: guards, the router, the refusal.

Guards leave a ``GuardVerdict`` per guard and stage in ``ctx.verdicts`` (allows too: a
verdict proves the guard ran); the router leaves a ``RoutingTrace`` in ``ctx.routing``. Both
go into the call's last record (``llm.response``, or the refusal) under ``detail``, and every
guard verdict that is not an allow also becomes a ``guard.verdict`` event of its own, so it
can be searched by verdict. Records hold no floats: scores are parts per million, durations
microseconds.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from tollhouse.audit.events import AuditEvent, EventType, Verdict
from tollhouse.pipeline.context import GuardVerdict, RequestContext

if TYPE_CHECKING:
    from tollhouse.routing.trace import RoutingTrace

# Policy names (``Policy.name``) whose refusals are not ``policy.decision``; a unit test holds
# them equal to the policies' own, which are not imported here to keep the writer light.
LIMITS_POLICY = "limits"
AUTH_THROTTLE_POLICY = "auth_throttle"
# What a dry-run guard's decision shows instead of the action it would have taken.
_DRY_RUN_SHOWN = frozenset({"block", "redact", "require_approval"})


def guard_json(verdict: GuardVerdict) -> dict[str, Any]:
    """One guard's verdict at one stage, compact (empty fields left out)."""
    data: dict[str, Any] = {
        "policy": verdict.policy,
        "guard": verdict.guard,
        "stage": verdict.stage,
        "outcome": verdict.outcome,
        "latency_us": int(verdict.latency_us),
    }
    if verdict.score:
        data["score_ppm"] = round(verdict.score * 1_000_000)
    if verdict.reason:
        data["reason"] = verdict.reason
    if verdict.dry_run:
        data["dry_run"] = True
    return data


def routing_json(trace: RoutingTrace) -> dict[str, Any]:
    """The router's strategy, every attempt (target, outcome, µs) and the target that answered."""
    data: dict[str, Any] = {
        "alias": trace.alias,
        "strategy": trace.strategy,
        "attempts": [
            {"target": a.target, "outcome": a.outcome, "duration_us": round(a.duration_s * 1_000_000)}
            for a in trace.attempts
        ],
    }
    if trace.target is not None:
        data["target"] = trace.target
    return data


def call_detail(ctx: RequestContext) -> dict[str, Any]:
    """The ``detail`` of a call's last record: its routing and guard verdicts, when it has them."""
    detail: dict[str, Any] = {}
    if ctx.routing is not None:
        detail["routing"] = routing_json(ctx.routing)
    if ctx.verdicts:
        detail["guards"] = [guard_json(v) for v in ctx.verdicts]
    return detail


def guard_event(verdict: GuardVerdict, time_us: int) -> AuditEvent:
    """The ``guard.verdict`` event of one verdict; its outcome is the decision's (a dry run's
    block shows as ``flag``), what the guard found is in ``detail``."""
    name = f"{verdict.policy}/{verdict.guard}"
    shown = "flag" if verdict.dry_run and verdict.outcome in _DRY_RUN_SHOWN else verdict.outcome
    return AuditEvent(
        EventType.GUARD_VERDICT,
        time_us=time_us,
        verdicts=(Verdict(f"guard:{name}", shown, verdict.reason, name),),
        detail=guard_json(verdict),
    )


def guard_events(ctx: RequestContext, time_us: int) -> list[AuditEvent]:
    """A ``guard.verdict`` for every verdict that is not an allow (errors and not-run included),
    and for each ``guard:`` decision no verdict stands for (a guard policy that keeps none)."""
    events = [guard_event(v, time_us) for v in ctx.verdicts if v.outcome != "allow"]
    covered = {f"guard:{v.policy}/{v.guard}" for v in ctx.verdicts}
    for d in ctx.decisions:
        if d.policy.startswith("guard:") and d.policy not in covered:
            verdict = Verdict(d.policy, d.outcome, d.reason, d.policy[6:])
            events.append(
                AuditEvent(
                    EventType.GUARD_VERDICT,
                    time_us=time_us,
                    verdicts=(verdict,),
                    detail={"guard": verdict.guard},
                )
            )
    return events


def denial_type(ctx: RequestContext) -> EventType:
    """Which event a refused call is: ``limit.rejected`` for anything the limits policy refused
    (rate, budget, session caps, a killed session, counters unavailable) and other 429s;
    ``auth.failure`` for 401s and the brute-force throttle; else ``policy.decision``."""
    denied_by = next((d.policy for d in reversed(ctx.decisions) if d.outcome == "deny"), "")
    if denied_by == AUTH_THROTTLE_POLICY or ctx.status == 401:
        return EventType.AUTH_FAILURE
    if denied_by == LIMITS_POLICY or ctx.status == 429:
        return EventType.LIMIT_REJECTED
    return EventType.POLICY_DECISION
