"""Settling a call: what it really used, per reservation it holds.

Known usage (``ctx.usage``, ``ctx.cost``) is what a call is charged, whatever its status —
an answer a guard refused afterwards was still paid for. Unknown usage is charged the
whole reservation when the upstream answered (a stream cut short without a usage report),
and nothing when the call never got an answer. Concurrency slots release with nothing.
"""

from __future__ import annotations

from dataclasses import dataclass

from tollhouse.limits.counters import HOLD, Release, Settlement
from tollhouse.limits.estimate import actual_cost_nusd, answered, usage_tokens
from tollhouse.limits.plan import Plan
from tollhouse.pipeline.context import RequestContext


@dataclass(frozen=True, slots=True)
class Charge:
    settlement: Settlement
    cost_nusd: int
    estimated: bool  # usage unknown: the reservation was charged


def charge(plan: Plan, ctx: RequestContext) -> Charge:
    done = answered(ctx)
    cost = actual_cost_nusd(ctx, plan.terms)
    estimated = False
    if cost is None:
        estimated = done and plan.estimate is not None and ctx.usage is None
        cost = plan.estimate.cost_nusd if estimated and plan.estimate is not None else 0
    releases = []
    for op, check in zip(plan.admission.ops, plan.checks, strict=True):
        if op.kind != HOLD:
            continue
        if check.settle == "spend":
            actual = cost
        elif check.settle:
            if ctx.usage is not None:
                actual = usage_tokens(ctx.usage, check.settle)
            else:
                actual = op.amount if done else 0
        else:
            actual = 0
        releases.append(Release(op.key, op.key, actual, op.expiry))
    return Charge(Settlement(plan.admission.rid, tuple(releases)), cost, estimated)
