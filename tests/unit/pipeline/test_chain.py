"""Chain: enters in phase order, exits in reverse for exactly the policies that entered."""

from __future__ import annotations

import logging

import pytest

from tests.unit.support import make_ctx
from tollhouse.errors import Forbidden, Unauthenticated
from tollhouse.pipeline.chain import Chain
from tollhouse.pipeline.context import Decision, RequestContext
from tollhouse.pipeline.outcome import Deny, Outcome, Reply
from tollhouse.pipeline.phases import CallKind, Phase
from tollhouse.pipeline.policy import Policy


class Recording(Policy):
    """Records its enter/exit into a shared log; optionally ends the call or fails on exit."""

    def __init__(
        self,
        name: str,
        phase: Phase,
        log: list[str],
        *,
        outcome: Outcome | None = None,
        exit_raises: bool = False,
    ) -> None:
        self.name = name  # type: ignore[misc]
        self.phase = phase  # type: ignore[misc]
        self._log = log
        self._outcome = outcome
        self._exit_raises = exit_raises

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        self._log.append(f"enter:{self.name}")
        return self._outcome

    async def exit(self, ctx: RequestContext) -> None:
        self._log.append(f"exit:{self.name}")
        if self._exit_raises:
            raise RuntimeError(f"{self.name} exit failed")


class EnterOnly(Policy):
    name = "enter_only"
    phase = Phase.ADMIT

    def __init__(self, log: list[str]) -> None:
        self._log = log

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        self._log.append("enter:enter_only")
        return None


class ExitOnly(Policy):
    name = "exit_only"
    phase = Phase.AUTHORIZE

    def __init__(self, log: list[str]) -> None:
        self._log = log

    async def exit(self, ctx: RequestContext) -> None:
        self._log.append("exit:exit_only")


class McpOnly(Policy):
    name = "mcp_only"
    phase = Phase.AUTHENTICATE
    kinds = frozenset({CallKind.MCP})

    def __init__(self, log: list[str]) -> None:
        self._log = log

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        self._log.append("enter:mcp_only")
        return Deny(Forbidden("mcp only"), "mcp")

    async def exit(self, ctx: RequestContext) -> None:
        self._log.append("exit:mcp_only")


async def _run(chain: Chain, ctx: RequestContext) -> tuple[Outcome | None, int]:
    outcome, reached = await chain.enter(ctx)
    await chain.exit(ctx, reached)
    return outcome, reached


async def test_enters_run_in_phase_order_regardless_of_list_order() -> None:
    log: list[str] = []
    chain = Chain(
        [
            Recording("lookup", Phase.LOOKUP, log),
            Recording("auth", Phase.AUTHENTICATE, log),
            Recording("admit", Phase.ADMIT, log),
            Recording("validate", Phase.VALIDATE, log),
        ],
        CallKind.LLM,
    )
    ctx = make_ctx()

    outcome, reached = await _run(chain, ctx)

    assert outcome is None
    assert reached == 4
    assert [p.name for p in chain.policies] == ["auth", "validate", "admit", "lookup"]
    assert log == [
        "enter:auth",
        "enter:validate",
        "enter:admit",
        "enter:lookup",
        "exit:lookup",
        "exit:admit",
        "exit:validate",
        "exit:auth",
    ]
    assert ctx.decisions == []


async def test_deny_from_second_policy_stops_the_third_and_unwinds_the_first_two() -> None:
    log: list[str] = []
    error = Unauthenticated("no")
    chain = Chain(
        [
            Recording("third", Phase.ADMIT, log),
            Recording("second", Phase.VALIDATE, log, outcome=Deny(error, "too_big", "second")),
            Recording("first", Phase.AUTHENTICATE, log),
        ],
        CallKind.LLM,
    )
    ctx = make_ctx()

    outcome, reached = await _run(chain, ctx)

    assert isinstance(outcome, Deny)
    assert outcome.error is error
    assert reached == 2
    assert log == ["enter:first", "enter:second", "exit:second", "exit:first"]
    assert ctx.decisions == [Decision("second", "deny", "too_big")]


async def test_reply_is_recorded_as_a_reply_decision() -> None:
    log: list[str] = []
    reply = Reply(b'{"cached": true}', "cache_hit")
    chain = Chain(
        [Recording("auth", Phase.AUTHENTICATE, log), Recording("cache", Phase.LOOKUP, log, outcome=reply)],
        CallKind.LLM,
    )
    ctx = make_ctx()

    outcome, reached = await _run(chain, ctx)

    assert outcome is reply
    assert reached == 2
    assert ctx.decisions == [Decision("cache", "reply", "cache_hit")]


async def test_exits_still_run_when_one_exit_raises(caplog: pytest.LogCaptureFixture) -> None:
    log: list[str] = []
    chain = Chain(
        [
            Recording("a", Phase.AUTHENTICATE, log),
            Recording("b", Phase.VALIDATE, log, exit_raises=True),
            Recording("c", Phase.ADMIT, log),
        ],
        CallKind.LLM,
    )
    ctx = make_ctx()

    with caplog.at_level(logging.ERROR, logger="tollhouse.pipeline"):
        await _run(chain, ctx)

    assert log[3:] == ["exit:c", "exit:b", "exit:a"]
    failures = [r for r in caplog.records if r.name == "tollhouse.pipeline"]
    assert len(failures) == 1
    assert "b" in failures[0].getMessage()
    assert failures[0].exc_info is not None


async def test_policies_for_other_kinds_are_skipped() -> None:
    log: list[str] = []
    chain = Chain([McpOnly(log), Recording("auth", Phase.AUTHENTICATE, log)], CallKind.LLM)
    ctx = make_ctx()

    outcome, reached = await _run(chain, ctx)

    assert outcome is None
    assert [p.name for p in chain.policies] == ["auth"]
    assert reached == 1
    assert log == ["enter:auth", "exit:auth"]


async def test_same_policy_applies_when_the_kind_matches() -> None:
    log: list[str] = []
    chain = Chain([McpOnly(log)], CallKind.MCP)

    outcome, _ = await _run(chain, make_ctx(kind=CallKind.MCP))

    assert isinstance(outcome, Deny)
    assert log == ["enter:mcp_only", "exit:mcp_only"]


async def test_hooks_a_policy_does_not_override_are_not_called_but_still_count() -> None:
    log: list[str] = []
    deny = Deny(Forbidden("no"), "blocked")
    chain = Chain(
        [
            EnterOnly(log),  # ADMIT
            ExitOnly(log),  # AUTHORIZE
            Recording("auth", Phase.AUTHENTICATE, log),
            Recording("inspect", Phase.INSPECT_REQUEST, log, outcome=deny),
        ],
        CallKind.LLM,
    )

    outcome, reached = await _run(chain, make_ctx())

    assert outcome is deny
    assert reached == 4
    assert log == [
        "enter:auth",
        "enter:enter_only",
        "enter:inspect",
        "exit:inspect",
        "exit:exit_only",
        "exit:auth",
    ]


async def test_exit_with_zero_reached_runs_nothing() -> None:
    log: list[str] = []
    chain = Chain([Recording("a", Phase.AUTHENTICATE, log)], CallKind.LLM)

    await chain.exit(make_ctx(), 0)

    assert log == []


async def test_empty_chain_passes() -> None:
    chain = Chain([], CallKind.LLM)
    assert await _run(chain, make_ctx()) == (None, 0)


class Boom(Exception):
    pass


class Raising(Policy):
    name = "raising"
    phase = Phase.VALIDATE

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        raise Boom  # e.g. the client hung up while its body was being read


async def test_exits_of_entered_policies_run_when_a_later_enter_raises() -> None:
    log: list[str] = []
    chain = Chain([Recording("auth", Phase.AUTHENTICATE, log), Raising()], CallKind.LLM)

    with pytest.raises(Boom):
        await chain.enter(make_ctx())

    assert log == ["enter:auth", "exit:auth"]


class Responding(Policy):
    """Records its on_response; optionally ends the call there."""

    def __init__(self, name: str, phase: Phase, log: list[str], outcome: Outcome | None = None) -> None:
        self.name = name  # type: ignore[misc]
        self.phase = phase  # type: ignore[misc]
        self._log = log
        self._outcome = outcome

    async def on_response(self, ctx: RequestContext) -> Outcome | None:
        self._log.append(f"respond:{self.name}")
        return self._outcome


async def test_on_response_runs_in_reverse_for_entered_policies_only() -> None:
    log: list[str] = []
    chain = Chain(
        [
            Responding("a", Phase.AUTHENTICATE, log),
            Responding("b", Phase.VALIDATE, log),
            Responding("c", Phase.ADMIT, log),
            Recording("plain", Phase.INSPECT_REQUEST, log),
        ],
        CallKind.LLM,
    )
    ctx = make_ctx()

    assert chain.inspects_responses(4)
    assert chain.inspects_responses(1)
    assert not chain.inspects_responses(0)
    assert await chain.respond(ctx, 2) is None
    assert log == ["respond:b", "respond:a"]
    assert ctx.decisions == []


async def test_on_response_outcome_stops_the_rest_and_is_recorded() -> None:
    log: list[str] = []
    deny = Deny(Forbidden("leak"), "secret_in_answer")
    chain = Chain(
        [
            Responding("outer", Phase.AUTHENTICATE, log),
            Responding("inspector", Phase.INSPECT_REQUEST, log, outcome=deny),
        ],
        CallKind.LLM,
    )
    ctx = make_ctx()

    assert await chain.respond(ctx, 2) is deny
    assert log == ["respond:inspector"]
    assert ctx.decisions == [Decision("inspector", "deny", "secret_in_answer")]


def test_chain_without_response_hooks_says_so() -> None:
    chain = Chain([Recording("a", Phase.AUTHENTICATE, [])], CallKind.LLM)
    assert not chain.inspects_responses(1)
