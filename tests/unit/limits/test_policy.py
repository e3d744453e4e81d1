"""The limits policy on real request contexts, compiled from real configs (in-process counters)."""

from __future__ import annotations

import time
from typing import Any

import pytest
import yaml

from tests.support.gateway import free_port
from tollhouse.config.compile import compile_config
from tollhouse.config.load import parse_config
from tollhouse.errors import TollhouseError
from tollhouse.identity.principal import Principal
from tollhouse.model.chat import Usage
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Deny
from tollhouse.pipeline.phases import CallKind
from tollhouse.policies.limits import Limits


def _policy(limits: dict[str, Any], redis_url: str | None = None, tmp: str = "/tmp") -> Limits:
    config: dict[str, Any] = {
        "auth": {"master_keys": ["sk-test-master-key-0001"]},
        "providers": {"demo": {"kind": "demo"}},
        "models": [
            {"alias": "demo", "target": "demo/demo-1", "price": {"input": 1.0, "output": 2.0}},
            {"alias": "other", "target": "demo/demo-1"},
        ],
        "database": {"url": f"sqlite:///{tmp}/limits-unit.db"},
        "limits": limits,
    }
    if redis_url:
        config["redis"] = {"url": redis_url}
    runtime = compile_config(parse_config(yaml.safe_dump(config)))
    return next(p for p in runtime.chains["chat"].policies if isinstance(p, Limits))


def _ctx(
    model: str = "demo", session: str | None = None, surface: str = "chat", max_tokens: int = 100
) -> RequestContext:
    ctx = RequestContext("req-1", surface, CallKind.LLM, {}, None, 0.0)
    ctx.payload = {
        "model": model,
        "messages": [{"role": "user", "content": "hello"}],
        "max_tokens": max_tokens,
    }
    ctx.body = yaml.safe_dump(ctx.payload).encode()
    ctx.model, ctx.session_id = model, session
    ctx.principal = Principal("user", "alice", org_id="acme", team_id="ml", key_id="key-1")
    return ctx


def _error(outcome: object) -> TollhouseError:
    assert isinstance(outcome, Deny)
    return outcome.error


async def test_shadow_refusals_are_recorded_not_enforced() -> None:
    policy = _policy({"rules": [{"name": "tiny", "metric": "requests", "limit": 1, "mode": "shadow"}]})
    outcomes = [await policy.enter(ctx := _ctx()) for _ in range(2)]
    assert outcomes == [None, None]
    assert [(d.outcome, d.reason) for d in ctx.decisions] == [("shadow_deny", "rate:tiny")]


async def test_success_carries_rate_limit_headers() -> None:
    policy = _policy({"rules": [{"name": "rpm", "metric": "requests", "limit": 5},
                                {"name": "tpm", "metric": "tokens", "limit": 10_000}]})  # fmt: skip
    ctx = _ctx(max_tokens=100)
    assert await policy.enter(ctx) is None
    headers = dict(ctx.response_headers or [])
    assert headers[b"x-ratelimit-limit-requests"] == b"5"
    assert headers[b"x-ratelimit-remaining-requests"] == b"4"
    assert headers[b"x-ratelimit-reset-requests"] == b"1m0s"
    assert int(headers[b"x-ratelimit-remaining-tokens"]) < 10_000 - 100


async def test_exit_settles_tokens_with_the_actual_usage() -> None:
    policy = _policy({"rules": [{"name": "tpm", "metric": "tokens", "limit": 1_000}]})
    ctx = _ctx(max_tokens=900)
    assert await policy.enter(ctx) is None
    assert isinstance(await policy.enter(_ctx(max_tokens=900)), Deny)  # 900 reserved: no room
    ctx.status, ctx.usage = 200, Usage(prompt_tokens=10, completion_tokens=20)
    await policy.exit(ctx)
    follow = _ctx(max_tokens=900)
    assert await policy.enter(follow) is None  # 30 used, nothing held
    assert int(dict(follow.response_headers or [])[b"x-ratelimit-remaining-tokens"]) > 0


async def test_budget_refusal_has_its_own_code() -> None:
    policy = _policy({"rules": [{"name": "daily", "metric": "spend", "limit": 0.0005, "window": "day",
                                 "calendar": True}]})  # fmt: skip
    error = _error(await policy.enter(_ctx(max_tokens=1000)))  # 1000 output tokens at $2/M = $0.002
    assert (error.status, error.type, error.code) == (429, "insufficient_quota", "budget_exceeded")
    assert 1 <= int(error.headers["retry-after"]) <= 86_400


async def test_unpriced_models_do_not_count_against_budgets() -> None:
    policy = _policy({"rules": [{"name": "daily", "metric": "spend", "limit": 0.0005}]})
    assert await policy.enter(_ctx(model="other", max_tokens=100_000)) is None


async def test_killed_sessions_are_refused_and_others_are_not() -> None:
    policy = _policy({"sessions": {"max_calls": 100}})
    policy._kills.add_local("s-1")
    error = _error(await policy.enter(_ctx(session="s-1")))
    assert (error.status, error.code) == (403, "session_killed")
    assert await policy.enter(_ctx(session="s-2")) is None


async def test_loop_detection_refuses_the_repeat() -> None:
    policy = _policy({"sessions": {"loop": {"max_repeats": 2, "window_s": 60}}})
    outcomes = [await policy.enter(_ctx(session="loopy")) for _ in range(3)]
    assert outcomes[:2] == [None, None]
    assert _error(outcomes[2]).code == "session_loop_detected"
    assert await policy.enter(_ctx(session="other-session")) is None


async def test_calls_without_a_session_skip_session_caps() -> None:
    policy = _policy({"sessions": {"max_calls": 1}})
    assert [await policy.enter(_ctx()) for _ in range(3)] == [None, None, None]


async def test_token_counting_surfaces_are_exempt() -> None:
    policy = _policy({"rules": [{"name": "rpm", "metric": "requests", "limit": 1}]})
    assert [await policy.enter(_ctx(surface="count_tokens")) for _ in range(3)] == [None, None, None]


async def test_redis_down_follows_each_limits_degraded_mode() -> None:
    dead = f"redis://127.0.0.1:{free_port()}/0"  # nothing listens there
    fail_open = _policy({"rules": [{"name": "open", "metric": "requests", "limit": 2}]}, dead)
    ctx = _ctx()
    assert await fail_open.enter(ctx) is None
    assert [(d.outcome, d.reason) for d in ctx.decisions] == [("degraded", "fail_open:open")]
    assert await fail_open.enter(_ctx()) is None
    assert _error(await fail_open.enter(_ctx())).code == "rate_limit_exceeded"  # counted locally

    fail_closed = _policy({"rules": [{"name": "shut", "metric": "requests", "limit": 2,
                                      "degraded": "fail_closed"}]}, dead)  # fmt: skip
    ctx = _ctx()
    error = _error(await fail_closed.enter(ctx))
    assert (error.status, error.code) == (503, "limits_unavailable")
    assert [(d.outcome, d.reason) for d in ctx.decisions] == [("degraded", "fail_closed:shut")]


async def test_refusals_name_the_limit_in_its_unit() -> None:
    policy = _policy(
        {
            "rules": [{"name": "forever", "metric": "spend", "limit": 0.0001, "window": "none"}],
            "sessions": {"max_spend": 0.5},
        }
    )
    error = _error(await policy.enter(_ctx(max_tokens=1000)))
    assert "budget `forever` exhausted: $0.0001" in error.message
    assert "it does not reset" in error.message
    assert "retry-after" not in error.headers
    capped = _policy({"sessions": {"max_spend": 0.001}})
    error = _error(await capped.enter(_ctx(session="big", max_tokens=1000)))
    assert error.message == "session cap `session.max_spend` reached: $0.0010"


def test_plans_reuse_a_principals_keys_but_not_its_amounts(monkeypatch: pytest.MonkeyPatch) -> None:
    policy = _policy(
        {
            "rules": [
                {"name": "tpm", "metric": "tokens", "limit": 10_000, "by": ["team"]},
                {"name": "daily", "metric": "spend", "limit": 5, "by": ["key"], "window": "day",
                 "calendar": True},
            ]
        }
    )  # fmt: skip
    planner = policy._planner
    day = 86_400
    monkeypatch.setattr(time, "time", lambda: 20_000 * day + 10.0)
    first, second = planner.plan(_ctx(max_tokens=100)), planner.plan(_ctx(max_tokens=300))
    keys = [op.key for op in first.admission.ops]
    assert keys == [op.key for op in second.admission.ops]
    assert keys[1].endswith(f":{20_000 * day * 1000}")  # the calendar day in the key
    assert second.admission.ops[0].amount - first.admission.ops[0].amount == 200  # each call's own
    assert first.admission.rid != second.admission.rid
    other = _ctx()
    other.principal = Principal("user", "bob", team_id="ops", key_id="key-2")
    assert [op.key for op in planner.plan(other).admission.ops] == [
        keys[0].replace(":ml", ":ops"),
        keys[1].replace(":key-1:", ":key-2:"),
    ]
    monkeypatch.setattr(time, "time", lambda: 20_001 * day + 10.0)  # the next day: a new counter
    assert planner.plan(_ctx()).admission.ops[1].key.endswith(f":{20_001 * day * 1000}")


def test_session_rules_keep_a_route_per_session() -> None:
    policy = _policy(
        {"rules": [{"name": "per-session", "metric": "requests", "limit": 5, "by": ["session"]}]}
    )
    planner = policy._planner
    a, b = planner.plan(_ctx(session="s-a")), planner.plan(_ctx(session="s-b"))
    assert a.admission.ops[0].key != b.admission.ops[0].key
    assert planner.plan(_ctx()).admission.ops == ()  # no session: the rule does not apply
