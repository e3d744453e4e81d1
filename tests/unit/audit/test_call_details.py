"""Guard verdicts, routing traces and limit refusals in a call's audit records."""

from __future__ import annotations

import time

import pytest

from tests.unit.support import make_ctx
from tollhouse.audit.call_details import AUTH_THROTTLE_POLICY, LIMITS_POLICY
from tollhouse.audit.canonical import check_canonical_value
from tollhouse.audit.capture import Capture, ContentPolicy, Finished
from tollhouse.model.chat import Usage
from tollhouse.pipeline.context import Decision, GuardVerdict, RequestContext
from tollhouse.policies.auth_throttle import AuthThrottle
from tollhouse.policies.limits import Limits
from tollhouse.routing.trace import RoutingTrace

CAPTURE = Capture(ContentPolicy("digest"))
PAYLOAD = {"model": "gpt-test", "messages": [{"role": "user", "content": "hello"}]}


def _end() -> Finished:
    return Finished(time.time_ns() // 1000, time.perf_counter())


def _served() -> RequestContext:
    ctx = make_ctx(payload=PAYLOAD)
    ctx.provider, ctx.upstream_model, ctx.status, ctx.usage = "fake", "gpt-4o-mini", 200, Usage(5, 3)
    ctx.response_body = b'{"choices":[]}'
    return ctx


def _guarded(ctx: RequestContext) -> None:
    """What the guardrails policy leaves: every verdict, and a decision for each that is not an allow."""
    ctx.verdicts += [
        GuardVerdict("input", "injection", "request", "allow", 0.05, 41),
        GuardVerdict("input", "pii", "request", "redact", 0.97, 120, "EMAIL"),
        GuardVerdict("output", "secrets", "response", "block", 1.0, 33, "aws_access_key", dry_run=True),
        GuardVerdict("output", "webhook", "response", "error", 0.0, 5000, "timeout"),
    ]
    ctx.decisions += [
        Decision("guard:input/pii", "redact", "request:EMAIL"),
        Decision("guard:output/secrets", "flag", "response:dry run block: aws_access_key"),
        Decision("guard:output/webhook", "error", "response:timeout"),
    ]


def test_guard_verdicts_become_events_with_score_latency_and_dry_run() -> None:
    ctx = _served()
    _guarded(ctx)
    entries = CAPTURE.finished(ctx, _end(), False, False)
    assert [e.record["type"] for e in entries] == [
        "llm.request",
        "llm.response",
        "guard.verdict",
        "guard.verdict",
        "guard.verdict",
    ]
    pii, secrets, webhook = (e.record for e in entries[2:])
    assert pii["detail"] == {
        "policy": "input",
        "guard": "pii",
        "stage": "request",
        "outcome": "redact",
        "score_ppm": 970_000,
        "latency_us": 120,
        "reason": "EMAIL",
    }
    assert pii["verdicts"] == [
        {"policy": "guard:input/pii", "outcome": "redact", "reason": "EMAIL", "guard": "input/pii"}
    ]
    # A dry run's block is shown as a flag (nothing was blocked); what the guard said is kept.
    assert secrets["verdicts"][0]["outcome"] == "flag"
    assert secrets["detail"]["outcome"] == "block" and secrets["detail"]["dry_run"] is True
    # A guard that failed is recorded as such, never as a pass.
    assert webhook["detail"]["outcome"] == "error" and webhook["verdicts"][0]["outcome"] == "error"
    for entry in entries:
        assert entry.record["request_id"] == ctx.request_id
        check_canonical_value(entry.record)


def test_the_response_lists_every_guard_that_ran_allows_included() -> None:
    ctx = _served()
    _guarded(ctx)
    response = CAPTURE.response(ctx, _end())
    guards = response.record["detail"]["guards"]
    assert [(g["guard"], g["outcome"]) for g in guards] == [
        ("injection", "allow"),
        ("pii", "redact"),
        ("secrets", "block"),
        ("webhook", "error"),
    ]
    assert guards[0] == {
        "policy": "input",
        "guard": "injection",
        "stage": "request",
        "outcome": "allow",
        "latency_us": 41,
        "score_ppm": 50_000,
    }


def test_only_allows_make_no_guard_events() -> None:
    ctx = _served()
    ctx.verdicts.append(GuardVerdict("input", "injection", "request", "allow", 0.0, 12))
    types = [e.record["type"] for e in CAPTURE.finished(ctx, _end(), False, False)]
    assert types == ["llm.request", "llm.response"]


def test_a_guard_decision_without_a_verdict_is_still_recorded() -> None:
    ctx = _served()
    ctx.decisions.append(Decision("guard:legacy/keywords", "block", "request:word"))
    *_, event = CAPTURE.finished(ctx, _end(), False, False)
    assert event.record["type"] == "guard.verdict"
    assert event.record["detail"] == {"guard": "legacy/keywords"}


def test_a_prompt_blocked_by_a_guard_is_a_refusal_and_a_verdict() -> None:
    ctx = make_ctx(payload=PAYLOAD)
    ctx.status, ctx.error_code = 400, "guard_blocked"
    ctx.verdicts.append(GuardVerdict("input", "injection", "request", "block", 0.99, 80, "override"))
    ctx.decisions += [
        Decision("guard:input/injection", "block", "request:override"),
        Decision("guardrails", "deny", "guard_guard_blocked"),
    ]
    refusal, verdict = CAPTURE.finished(ctx, _end(), False, False)
    assert refusal.record["type"] == "policy.decision"
    assert refusal.record["detail"]["guards"][0]["outcome"] == "block"
    assert verdict.record["type"] == "guard.verdict"
    assert verdict.record["detail"]["score_ppm"] == 990_000


def test_routing_trace_is_on_the_response_in_integers() -> None:
    ctx = _served()
    trace = RoutingTrace("gpt-test", "fallback")
    trace.add("primary/gpt-4o", "upstream_timeout", 1.2345678)
    trace.add("backup/gpt-4o-mini", "ok", 0.25)
    trace.target = "backup/gpt-4o-mini"
    ctx.routing = trace
    record = CAPTURE.response(ctx, _end()).record
    assert record["detail"]["routing"] == {
        "alias": "gpt-test",
        "strategy": "fallback",
        "target": "backup/gpt-4o-mini",
        "attempts": [
            {"target": "primary/gpt-4o", "outcome": "upstream_timeout", "duration_us": 1_234_568},
            {"target": "backup/gpt-4o-mini", "outcome": "ok", "duration_us": 250_000},
        ],
    }
    check_canonical_value(record)


def test_a_call_without_guards_or_router_has_no_detail() -> None:
    assert "detail" not in CAPTURE.response(_served(), _end()).record


@pytest.mark.parametrize(
    ("status", "policy", "reason", "expected"),
    [
        (429, LIMITS_POLICY, "rate:key:rpm", "limit.rejected"),
        (429, LIMITS_POLICY, "budget:team:ml", "limit.rejected"),
        (403, LIMITS_POLICY, "session_killed", "limit.rejected"),
        (403, LIMITS_POLICY, "session:calls", "limit.rejected"),
        (503, LIMITS_POLICY, "limits_unavailable", "limit.rejected"),
        (429, AUTH_THROTTLE_POLICY, "auth_throttled", "auth.failure"),
        (401, "virtual_key", "invalid_key", "auth.failure"),
        (403, "authorize", "forbid", "policy.decision"),
    ],
)
def test_refusals_by_the_policy_that_refused(status: int, policy: str, reason: str, expected: str) -> None:
    ctx = make_ctx(payload=PAYLOAD)
    ctx.status = status
    ctx.decisions.append(Decision(policy, "deny", reason))
    (entry,) = CAPTURE.finished(ctx, _end(), False, False)
    assert entry.record["type"] == expected
    assert entry.record["verdicts"] == [{"policy": policy, "outcome": "deny", "reason": reason}]


def test_policy_names_match_the_policies() -> None:
    assert Limits.name == LIMITS_POLICY and AuthThrottle.name == AUTH_THROTTLE_POLICY
