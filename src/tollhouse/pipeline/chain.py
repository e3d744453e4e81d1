"""The chain: runs policies' enters in phase order and their exits in reverse."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from tollhouse.pipeline.context import Decision, RequestContext
from tollhouse.pipeline.outcome import Deny, Outcome
from tollhouse.pipeline.phases import CallKind
from tollhouse.pipeline.policy import Policy

log = logging.getLogger("tollhouse.pipeline")


class Chain:
    """An ordered, immutable list of policies for one kind of call.

    ``enter`` returns how far the call got; ``exit(ctx, reached)`` then runs the exits of
    exactly those policies that entered, in reverse, so entering and leaving stay symmetric.
    """

    __slots__ = ("_enters", "_exits_after", "_responds_after", "policies")

    def __init__(self, policies: Sequence[Policy], kind: CallKind) -> None:
        chosen = sorted((p for p in policies if kind in p.kinds), key=lambda p: p.phase)
        self.policies: tuple[Policy, ...] = tuple(chosen)
        # Pre-computed so the hot path never calls a hook a policy does not override.
        self._enters = tuple((i, p) for i, p in enumerate(chosen) if type(p).enter is not Policy.enter)
        self._exits_after = tuple(
            tuple(p for p in reversed(chosen[:n]) if type(p).exit is not Policy.exit)
            for n in range(len(chosen) + 1)
        )
        self._responds_after = tuple(
            tuple(p for p in reversed(chosen[:n]) if type(p).on_response is not Policy.on_response)
            for n in range(len(chosen) + 1)
        )

    async def enter(self, ctx: RequestContext) -> tuple[Outcome | None, int]:
        """Run enters until one returns an outcome; return it and how many policies entered."""
        for index, policy in self._enters:
            try:
                outcome = await policy.enter(ctx)
            except BaseException:
                # Whatever the policies before this one hold must still be released.
                await self.exit(ctx, index)
                raise
            if outcome is not None:
                kind = "deny" if isinstance(outcome, Deny) else "reply"
                ctx.decisions.append(Decision(policy.name, kind, outcome.reason))
                return outcome, index + 1
        return None, len(self.policies)

    def inspects_responses(self, reached: int) -> bool:
        """Whether any entered policy has an ``on_response`` hook (else callers skip the call)."""
        return bool(self._responds_after[reached])

    async def respond(self, ctx: RequestContext, reached: int) -> Outcome | None:
        """Run ``on_response`` of the entered policies, in reverse, until one returns an outcome."""
        for policy in self._responds_after[reached]:
            outcome = await policy.on_response(ctx)
            if outcome is not None:
                kind = "deny" if isinstance(outcome, Deny) else "reply"
                ctx.decisions.append(Decision(policy.name, kind, outcome.reason))
                return outcome
        return None

    async def exit(self, ctx: RequestContext, reached: int) -> None:
        """Run the exits of the first ``reached`` policies, in reverse; none can skip another."""
        for policy in self._exits_after[reached]:
            try:
                await policy.exit(ctx)
            except Exception:
                log.exception("policy %s failed on exit", policy.name)
