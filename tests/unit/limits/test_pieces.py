"""The small pure parts of limits: estimates, tool results, headers, windows, rules, settlement."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tollhouse.catalog.pricing import Price
from tollhouse.identity.principal import Principal
from tollhouse.limits.config import LimitRule
from tollhouse.limits.counters import HOLD, Admission, Expiry, Op
from tollhouse.limits.estimate import ModelTerms, estimate, tool_results
from tollhouse.limits.headers import Room, duration, rate_headers, retry_after
from tollhouse.limits.plan import Plan
from tollhouse.limits.rules import Check, compile_rule, dimensions, key_part
from tollhouse.limits.settle import charge
from tollhouse.limits.timespec import BadTime, parse_time
from tollhouse.limits.windows import calendar_bounds
from tollhouse.model.chat import Usage
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.phases import CallKind

TERMS = ModelTerms(Price(input=1.0, output=2.0), max_output=8192)


def _ctx(payload: dict[str, object], surface: str = "chat", body: bytes = b"x" * 300) -> RequestContext:
    ctx = RequestContext("r", surface, CallKind.LLM, {}, None, 0.0)
    ctx.payload, ctx.body = payload, body
    return ctx


@pytest.mark.parametrize(
    ("payload", "surface", "output"),
    [
        ({"max_tokens": 50}, "chat", 50),
        ({"max_completion_tokens": 70, "max_tokens": 50}, "chat", 70),
        ({"max_output_tokens": 30}, "responses", 30),
        ({"max_tokens": 50, "n": 3}, "chat", 150),
        ({}, "chat", 8192),  # the catalog's maximum output
        ({"max_tokens": True}, "chat", 8192),
        ({"input": "embed me"}, "embeddings", 0),
    ],
)
def test_estimate_reserves_the_output_cap(payload: dict[str, object], surface: str, output: int) -> None:
    cost = estimate(_ctx(payload, surface), TERMS, 3.0, 4096)
    assert cost.input_tokens == 100  # 300 bytes / 3
    assert cost.output_tokens == output
    assert cost.cost_nusd == (100 * 1_000 + output * 2_000)  # nano-USD per token: $1/M = 1000 n$


def test_estimate_without_terms_uses_the_default_and_costs_nothing() -> None:
    cost = estimate(_ctx({}), None, 3.0, 4096)
    assert (cost.output_tokens, cost.cost_nusd) == (4096, 0)


def test_tool_results_per_dialect() -> None:
    chat = {"messages": [{"role": "user"}, {"role": "assistant"}, {"role": "tool"}, {"role": "tool"}]}
    assert tool_results(chat, "openai") == 2
    assert tool_results({"messages": [{"role": "user"}]}, "openai") == 0
    anthropic = {"messages": [{"role": "user", "content": [{"type": "tool_result"}, {"type": "text"},
                                                           {"type": "tool_result"}]}]}  # fmt: skip
    assert tool_results(anthropic, "anthropic") == 2
    responses = {"input": [{"type": "message"}, {"type": "function_call"}, {"type": "function_call_output"}]}
    assert tool_results(responses, "openai_responses") == 1
    assert tool_results({"messages": "nonsense"}, "openai") == 0


@pytest.mark.parametrize(
    ("ms", "text"), [(20, "20ms"), (1000, "1s"), (1001, "2s"), (360_000, "6m0s"), (3_723_000, "1h2m3s")]
)
def test_reset_durations_look_like_openais(ms: int, text: str) -> None:
    assert duration(ms) == text


def test_retry_after_is_at_least_a_second() -> None:
    assert (retry_after(0), retry_after(1), retry_after(1500)) == ("1", "1", "2")


def test_headers_describe_the_tightest_counter_per_family() -> None:
    headers = dict(
        rate_headers(
            [Room("requests", 100, 40, 1000), Room("requests", 10, 3, 5000), Room("tokens", 9, -2, 0)]
        )
    )
    assert headers[b"x-ratelimit-limit-requests"] == b"10"
    assert headers[b"x-ratelimit-remaining-requests"] == b"3"
    assert headers[b"x-ratelimit-reset-requests"] == b"5s"
    assert headers[b"x-ratelimit-remaining-tokens"] == b"0"


def _ms(*args: int) -> int:
    return int(datetime(*args, tzinfo=UTC).timestamp() * 1000)  # type: ignore[misc,arg-type]


def test_calendar_windows() -> None:
    now = _ms(2026, 12, 31, 23, 59, 30)
    assert calendar_bounds("minute", now) == (_ms(2026, 12, 31, 23, 59), _ms(2027, 1, 1))
    assert calendar_bounds("day", now) == (_ms(2026, 12, 31), _ms(2027, 1, 1))
    assert calendar_bounds("month", now) == (_ms(2026, 12, 1), _ms(2027, 1, 1))
    assert calendar_bounds("month", _ms(2026, 2, 10)) == (_ms(2026, 2, 1), _ms(2026, 3, 1))
    assert calendar_bounds("week", _ms(2026, 11, 27, 12)) == (_ms(2026, 11, 23), _ms(2026, 11, 30))  # Monday


def test_rules_apply_by_dimension_and_match() -> None:
    rule = compile_rule(
        LimitRule(
            name="r", metric="requests", limit=5, by=["team", "model"], match={"model": ["gpt-*", "claude"]}
        ),
        1000,
        1000,
    )
    ctx = RequestContext("r", "chat", CallKind.LLM, {}, None, 0.0)
    ctx.principal = Principal("agent", "bot", team_id="ml", key_id="k1")
    ctx.model = "gpt-4o"
    dims = dimensions(ctx, {"gpt-4o": "openai/gpt-4o"})
    assert dims["agent"] == "bot"
    assert dims["provider"] == "openai/gpt-4o"
    assert rule.applies(dims)
    assert rule.counter("p:", dims, {}, 0)[0] == "p:r:ml|gpt-4o"
    assert not rule.applies({**dims, "model": "mistral"})
    assert not rule.applies({**dims, "team": None})


def test_calendar_rule_keys_name_their_window() -> None:
    rule = compile_rule(
        LimitRule(name="m", metric="spend", limit=10, by=[], window="month", calendar=True), 1, 1
    )
    key, window = rule.counter("p:", {}, {}, _ms(2026, 11, 15))
    assert key == f"p:m:*:{_ms(2026, 11, 1)}"
    assert (window.mode, window.at_ms) == ("c", _ms(2026, 12, 1))
    assert rule.limit == 10_000_000_000  # nano-USD


def test_key_parts_are_hashed_when_unsafe() -> None:
    assert key_part("team-ml") == "team-ml"
    assert key_part("a:b").startswith("#")
    assert len(key_part("x" * 500)) == 33


def _plan(amount: int) -> Plan:
    ops = (Op("spend", HOLD, amount, 10**9, Expiry("a", 1000)), Op("slots", HOLD, 1, 5, Expiry("i", 1000)),
           Op("tok", HOLD, 500, 10**6, Expiry("a", 1000)))  # fmt: skip
    checks = (
        Check("budget", "budget", "spend"),
        Check("inflight", "rate", ""),
        Check("tpm", "rate", "tokens"),
    )
    return Plan(
        Admission("rid", ops, 1000), checks, estimate(_ctx({"max_tokens": 400}), TERMS, 3.0, 1), TERMS
    )


def test_settlement_charges_the_known_usage() -> None:
    ctx = _ctx({})
    ctx.status, ctx.usage, ctx.cost = 200, Usage(prompt_tokens=10, completion_tokens=5), 0.00002
    result = charge(_plan(900_000), ctx)
    assert [r.actual for r in result.settlement.releases] == [20_000, 0, 15]
    assert (result.cost_nusd, result.estimated) == (20_000, False)


def test_settlement_charges_the_reservation_when_usage_is_unknown_after_an_answer() -> None:
    ctx = _ctx({})
    ctx.status = 200
    plan = _plan(900_000)
    result = charge(plan, ctx)
    assert plan.estimate is not None
    assert result.cost_nusd == plan.estimate.cost_nusd
    assert result.estimated
    assert [r.actual for r in result.settlement.releases] == [plan.estimate.cost_nusd, 0, 500]


def test_settlement_releases_everything_when_nothing_was_answered() -> None:
    ctx = _ctx({})
    ctx.status, ctx.error_code = 502, "upstream_error"
    result = charge(_plan(900_000), ctx)
    assert [r.actual for r in result.settlement.releases] == [0, 0, 0]
    assert (result.cost_nusd, result.estimated) == (0, False)


def test_times_people_write() -> None:
    now = 1_800_000_000.0
    assert parse_time("7d", now) == now - 7 * 86400
    assert parse_time("90m", now) == now - 5400
    assert parse_time("2026-11-01", now) == _ms(2026, 11, 1) / 1000
    assert parse_time("2026-11-01T12:00:00Z", now) == _ms(2026, 11, 1, 12) / 1000
    assert parse_time("1700000000", now) == 1_700_000_000
    with pytest.raises(BadTime):
        parse_time("last tuesday", now)


@pytest.mark.parametrize("text", ["1e308", "inf", "nan", "-5", "1180591620717411303424", "100000000d"])
def test_times_no_column_can_hold_are_refused(text: str) -> None:
    # They reached the database (an overflow there) or int() (of infinity): a 500 on the admin API.
    with pytest.raises(BadTime, match="outside 1970-01-01 to 9999-12-31"):
        parse_time(text, 1_800_000_000.0)
