"""Settling a call: what it really used, per reservation it holds.

Known usage (``ctx.usage``, ``ctx.cost``) is what a call is charged, whatever its status —
an answer a guard refused afterwards was still paid for. Unknown usage is charged the
whole reservation when the upstream answered (a stream cut short without a usage report),
and nothing when the call never got an answer. Concurrency slots release with nothing.
"""

from __future__ import annotations

from typing import NamedTuple

from tollhouse.limits.counters import HOLD, Release, Settlement
from tollhouse.limits.estimate import actual_cost_nusd, answered, usage_tokens
from tollhouse.limits.plan import Plan
from tollhouse.pipeline.context import RequestContext

_new = tuple.__new__  # a NamedTuple without a Python-level __new__ call: this runs per call


class Charge(NamedTuple):
    settlement: Settlement
    cost_nusd: int
    estimated: bool  # usage unknown: the reservation was charged


def charge(plan: Plan, ctx: RequestContext) -> Charge:
    (rid, ops, _), checks, estimate, terms = plan
    usage = ctx.usage
    done = ctx.status == 200 or answered(ctx)
    cost = actual_cost_nusd(ctx, terms)
    estimated = False
    if cost is None:
        estimated = done and estimate is not None and usage is None
        cost = estimate.cost_nusd if estimated and estimate is not None else 0
    releases = []
    for (key, kind, amount, _, expiry, _, _), check in zip(ops, checks, strict=True):
        if kind != HOLD:
            continue
        settle = check.settle
        if settle == "spend":
            actual = cost
        elif not settle:
            actual = 0
        elif usage is not None:
            actual = usage_tokens(usage, settle)
        else:
            actual = amount if done else 0
        releases.append(_new(Release, (key, key, actual, expiry)))
    return _new(Charge, (_new(Settlement, (rid, tuple(releases))), cost, estimated))
