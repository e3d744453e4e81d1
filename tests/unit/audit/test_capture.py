"""From a finished request context to audit entries: which events, what content."""

from __future__ import annotations

import hashlib
import time

import orjson

from tests.unit.support import make_ctx
from tollhouse.audit.capture import Capture, ContentPolicy, Finished
from tollhouse.audit.chain import index_values
from tollhouse.audit.events import AuditEvent, ContentRef, EventType, PrincipalRef, Usage, Verdict
from tollhouse.audit.redaction import ContentRedactor, removed_words
from tollhouse.identity.principal import Principal
from tollhouse.model.chat import Usage as ModelUsage
from tollhouse.observability.redact import Redactor
from tollhouse.pipeline.context import Decision, RequestContext

DIGEST = Capture(ContentPolicy("digest"))
PAYLOAD = {
    "model": "gpt-test",
    "messages": [{"role": "user", "content": "mail bob@example.com key sk-abcdef123456"}],
}


def _end() -> Finished:
    return Finished(time.time_ns() // 1000, time.perf_counter())


def _served(stream: bool = False) -> RequestContext:
    ctx = make_ctx(payload=PAYLOAD | {"stream": stream}, headers={})
    ctx.principal = Principal(kind="agent", id="planner", org_id="acme", on_behalf_of="alice")
    ctx.provider, ctx.upstream_model, ctx.status = "fake", "gpt-4o-mini", 200
    ctx.usage, ctx.cost = ModelUsage(11, 7), 0.000123
    ctx.trace_id, ctx.span_id, ctx.session_id = "ab" * 16, "cd" * 8, "task-1"
    if stream:
        ctx.stream_capture = [b'data: {"a":1}\n\n', b'data: {"b":2}\n\n']
    else:
        ctx.response_body = b'{"choices":[]}'
    return ctx


def test_a_served_call_is_a_request_and_a_response() -> None:
    ctx = _served()
    request, response = DIGEST.finished(ctx, _end(), False, False)
    assert request.record["type"] == "llm.request" and response.record["type"] == "llm.response"
    assert request.record["principal"]["delegation"] == ["user:alice", "agent:planner"]
    assert request.record["session_id"] == "task-1" and request.record["span_id"] == "cd" * 8
    assert request.record["content"] == [
        {
            "part": "request",
            "sha256": hashlib.sha256(ctx.body).hexdigest(),
            "size": len(ctx.body),
            "stored": "digest",
        }
    ]
    assert request.content == () and response.content == ()  # digest mode stores nothing
    r = response.record
    assert (r["status"], r["provider"], r["upstream_model"], r["cost_micro_usd"]) == (
        200,
        "fake",
        "gpt-4o-mini",
        123,
    )
    assert r["usage"] == {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18}
    assert r["latency_us"] >= 0 and request.record["time"] <= r["time"]


def test_a_stream_answer_is_its_captured_events() -> None:
    ctx = _served(stream=True)
    response = Capture(ContentPolicy("full")).response(ctx, _end())
    (piece,) = response.content
    assert piece.data == b"".join(ctx.stream_capture or []) and response.record["stream"] is True


def test_strict_mode_leaves_only_what_is_missing() -> None:
    ctx = _served()
    assert DIGEST.finished(ctx, _end(), True, True) == []
    (response,) = DIGEST.finished(ctx, _end(), True, False)
    assert response.record["type"] == "llm.response"


def test_denials_by_status() -> None:
    for status, reason, expected in (
        (401, "bad_key", "auth.failure"),
        (429, "rpm", "limit.rejected"),
        (403, "cedar", "policy.decision"),
    ):
        ctx = make_ctx(payload=PAYLOAD)
        ctx.status = status
        ctx.decisions.append(Decision("some_policy", "deny", reason))
        (entry,) = DIGEST.finished(ctx, _end(), False, False)
        assert entry.record["type"] == expected
        assert entry.record["verdicts"] == [{"policy": "some_policy", "outcome": "deny", "reason": reason}]


def test_model_lists_record_only_failures() -> None:
    ok = make_ctx("models")
    ok.status = 200
    assert DIGEST.finished(ok, _end(), False, False) == []
    refused = make_ctx("models")
    refused.status = 401
    (entry,) = DIGEST.finished(refused, _end(), False, False)
    assert (
        entry.record["type"] == "auth.failure" and "content" not in entry.record
    )  # nobody to attribute it to


def test_guard_decisions_also_become_guard_verdicts() -> None:
    ctx = _served()
    ctx.decisions.append(Decision("guard:pii", "redact", "email"))
    types = [e.record["type"] for e in DIGEST.finished(ctx, _end(), False, False)]
    assert types == ["llm.request", "llm.response", "guard.verdict"]


def test_content_modes() -> None:
    ctx = _served()
    full = Capture(ContentPolicy("full")).request(ctx, 0)
    assert full.content[0].data == ctx.body and full.record["content"][0]["stored"] == "full"
    redacted = Capture(ContentPolicy("redacted", ContentRedactor(Redactor()))).request(ctx, 0)
    (piece,) = redacted.content
    text = orjson.loads(piece.data)["messages"][0]["content"]
    assert "bob@example.com" not in text and "sk-abcdef123456" not in text and "[PII]" in text
    ref = redacted.record["content"][0]
    assert ref["stored"] == "redacted" and ref["sha256"] == hashlib.sha256(ctx.body).hexdigest()
    assert ref["stored_sha256"] == piece.sha256 == hashlib.sha256(piece.data).hexdigest()


def test_fast_records_have_the_shape_audit_events_define() -> None:
    ctx = _served()
    ctx.decisions.append(Decision("authorize", "allow", "ok"))
    end = _end()
    request, response = DIGEST.finished(ctx, end, False, False)
    assert ctx.principal is not None
    common = {
        "request_id": ctx.request_id,
        "principal": PrincipalRef.of(ctx.principal),
        "session_id": "task-1",
        "trace_id": "ab" * 16,
        "span_id": "cd" * 8,
        "surface": "chat",
        "route": "gpt-test",
        "stream": False,
    }
    expected_request = AuditEvent(
        EventType.LLM_REQUEST,
        request.record["id"],
        request.time_us,
        content=(ContentRef("request", hashlib.sha256(ctx.body).hexdigest(), len(ctx.body), "digest"),),
        **common,
    )
    assert request.record == expected_request.to_record()
    body = ctx.response_body or b""
    expected_response = AuditEvent(
        EventType.LLM_RESPONSE,
        response.record["id"],
        end.time_us,
        provider="fake",
        upstream_model="gpt-4o-mini",
        status=200,
        usage=Usage(11, 7),
        cost_micro_usd=123,
        latency_us=response.record["latency_us"],
        verdicts=(Verdict("authorize", "allow", "ok"),),
        content=(ContentRef("response", hashlib.sha256(body).hexdigest(), len(body), "digest"),),
        **common,
    )
    assert response.record == expected_response.to_record()


def test_the_search_columns_a_record_carries_are_those_its_body_gives() -> None:
    # The writer stores ``Entry.index`` as the row's search columns; verify reads them from the body.
    served = _served()
    served.decisions += [Decision("guard:pii", "flag", "EMAIL"), Decision("authorize", "allow", "ok")]
    anonymous = make_ctx(payload=PAYLOAD, headers={})
    anonymous.status, anonymous.response_body = 502, b""
    strict = _served()
    strict.status = 0  # strict mode records the answer before its status is set
    entries = [
        entry
        for ctx in (_served(), served, anonymous)
        for entry in DIGEST.finished(ctx, _end(), False, False)
    ]
    entries.append(DIGEST.response(strict, _end(), status=200))
    indexed = [entry for entry in entries if entry.index is not None]
    assert len(indexed) == 7  # two per call, and the strict answer (guard verdicts carry none)
    for entry in indexed:
        assert entry.index == index_values(entry.record, entry.time_us)


def test_removed_words_are_what_a_guard_took_out_of_the_prompt() -> None:
    original = (
        b'{"messages": [{"role": "user", "content": "Plan \\u00e9t\\u00e9 for Nightingale, ask Bob."}]}'
    )
    forwarded = (
        b'{"messages":[{"role":"user","content":"Plan \xc3\xa9t\xc3\xa9 for <KEYWORD_1>, ask <NAME_1>."}]}'
    )
    assert removed_words(original, forwarded) == {"Nightingale", "Bob"}


def test_redacted_content_masks_removed_words_and_pii_shapes() -> None:
    redactor = ContentRedactor([])
    kept = redactor.redact(b"Nightingale for Bob at bob@example.org, Nightingales", {"Nightingale", "Bob"})
    assert kept == b"[PII] for [PII] at [PII], [PII]s"
