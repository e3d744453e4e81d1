"""The audit trail through the real gateway and a fake OpenAI upstream, in both durability modes."""

from __future__ import annotations

import asyncio
import base64
import sqlite3
from pathlib import Path
from typing import Any

import openai
import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.audit_chain import MASTER_KEY, SIGNING_KEY, signer
from tests.support.gateway import CLIENT_KEY, RunningGateway, upstream_config
from tollhouse.audit.service import AuditService
from tollhouse.audit.vault import ContentVault
from tollhouse.storage.engine import create_engine

MESSAGES = [{"role": "user", "content": "Audit me: alice@example.com"}]


def audit_config(base_url: str, db: Path, mode: str, **audit: Any) -> dict[str, Any]:
    config = upstream_config(base_url)
    config["database"] = {"url": f"sqlite:///{db}"}
    config["audit"] = {
        "enabled": True,
        "mode": mode,
        "flush_interval_s": 0.05,
        "content": {"mode": "full", "master_key": base64.b64encode(MASTER_KEY).decode()},
        "checkpoints": {"signing_key": SIGNING_KEY, "every": 5},
        **audit,
    }
    return config


def records(db: Path) -> list[tuple[str, str | None, int | None]]:
    """(type, request_id, status) of every record, read straight from the file (through the view
    that has every search column; SQLite reads some of them from the record's body)."""
    with sqlite3.connect(db) as conn:
        query = "SELECT type, request_id, status FROM audit_records_view ORDER BY chain_id, seq"
        return list(conn.execute(query))


async def _verify(db: Path, reveal_session: str | None = None) -> tuple[Any, Any]:
    engine = create_engine(f"sqlite:///{db}")
    try:
        service = AuditService(engine, [signer().public_key], ContentVault(engine, MASTER_KEY))
        report = await service.verify()
        timeline = (
            await service.session_timeline(reveal_session, reveal_content=True) if reveal_session else None
        )
        return report, timeline
    finally:
        await engine.dispose()


def _chat(gw: RunningGateway, **kwargs: Any) -> Any:
    client = openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0)
    return client.chat.completions.with_raw_response.create(model="gpt-test", messages=MESSAGES, **kwargs)  # type: ignore[arg-type]


def test_async_mode_records_calls_denials_and_content(tmp_path: Path, upstream: FakeOpenAI) -> None:
    db = tmp_path / "gw.db"
    with RunningGateway(audit_config(upstream.base_url, db, "async")) as gw:
        plain = _chat(gw, extra_headers={"x-tollhouse-session": "task-42"})
        streamed = _chat(gw, stream=True, extra_headers={"x-tollhouse-session": "task-42"})
        assert "".join(c.choices[0].delta.content or "" for c in streamed.parse() if c.choices)
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(base_url=gw.base_url, api_key="sk-wrong-key-123456", max_retries=0).models.list()
        failing = openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0)
        with pytest.raises(openai.APIStatusError):
            failing.chat.completions.create(model="error-500", messages=MESSAGES)  # type: ignore[arg-type]
    # Stopping the gateway drained the queue and closed the chain.
    rows = records(db)
    types = [t for t, _, _ in rows]
    assert types[0] == "chain.start" and types[-1] == "chain.close"
    plain_id = plain.headers["x-request-id"]
    assert ("llm.request", plain_id, None) in rows and ("llm.response", plain_id, 200) in rows
    assert types.count("llm.request") == 3 and types.count("llm.response") == 3
    assert ("auth.failure", None, 401) in [(t, None, s) for t, _, s in rows]
    assert any(t == "llm.response" and s == 502 for t, _, s in rows)
    report, timeline = asyncio.run(_verify(db, "task-42"))
    assert report.ok, report.problems
    assert timeline.calls == 2 and timeline.total_tokens > 0
    first, second = (node.content for node in timeline.roots)
    assert "alice@example.com" in first["request"] and "alice@example.com" in second["request"]
    assert "fake reply to" in first["response"]  # the JSON answer
    assert (
        second["response"].startswith("data: {") and "[DONE]" not in second["response"]
    )  # the stream's events


def test_strict_mode_records_are_durable_before_the_caller_has_the_answer(
    tmp_path: Path, upstream: FakeOpenAI
) -> None:
    db = tmp_path / "gw.db"
    with RunningGateway(audit_config(upstream.base_url, db, "strict", flush_interval_s=30)) as gw:
        # A 30 s flush interval: only strict durability can explain records being there already.
        plain = _chat(gw)
        plain_id = plain.headers["x-request-id"]
        rows = records(db)
        assert ("llm.request", plain_id, None) in rows and ("llm.response", plain_id, 200) in rows
        streamed = _chat(gw, stream=True)
        text = "".join(c.choices[0].delta.content or "" for c in streamed.parse() if c.choices)
        stream_id = streamed.headers["x-request-id"]
        rows = records(db)
        assert text and ("llm.request", stream_id, None) in rows and ("llm.response", stream_id, 200) in rows
    report, _ = asyncio.run(_verify(db))
    assert report.ok, report.problems


def test_strict_mode_refuses_calls_it_cannot_record(tmp_path: Path, upstream: FakeOpenAI) -> None:
    db = tmp_path / "gw.db"
    with RunningGateway(audit_config(upstream.base_url, db, "strict", block_timeout_s=2)) as gw:
        _chat(gw)
        with sqlite3.connect(db) as conn:
            conn.execute("ALTER TABLE audit_records RENAME TO audit_records_away")
        before = len(upstream.requests)
        with pytest.raises(openai.APIStatusError) as caught:
            _chat(gw)
        assert caught.value.status_code == 503 and caught.value.code == "audit_unavailable"
        assert len(upstream.requests) == before  # never forwarded unrecorded
        with sqlite3.connect(db) as conn:
            conn.execute("ALTER TABLE audit_records_away RENAME TO audit_records")
        _chat(gw)
    types = [t for t, _, _ in records(db)]
    assert "policy.decision" in types  # the refusal itself is on the record
    report, _ = asyncio.run(_verify(db))
    assert report.ok, report.problems


def test_a_session_id_too_long_is_refused_and_the_chain_goes_on(tmp_path: Path, upstream: FakeOpenAI) -> None:
    db = tmp_path / "gw.db"
    with RunningGateway(audit_config(upstream.base_url, db, "async")) as gw:
        with pytest.raises(openai.BadRequestError) as refused:
            _chat(gw, extra_headers={"x-tollhouse-session": "s" * 300})
        error = refused.value.body
        assert isinstance(error, dict) and error["param"] == "x-tollhouse-session"
        assert error["code"] == "invalid_value" and "255" in error["message"]
        assert not upstream.requests  # refused before anything was forwarded
        ok = _chat(gw, extra_headers={"x-tollhouse-session": "s" * 255})
    rows = records(db)
    assert ("llm.response", ok.headers["x-request-id"], 200) in rows
    report, _ = asyncio.run(_verify(db))
    assert report.ok, report.problems
