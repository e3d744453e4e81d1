"""The MCP tables on every backend: pinned definitions and held tool calls."""

from __future__ import annotations

import time

from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.approvals import store as approval_store
from tollhouse.approvals.table import approvals
from tollhouse.mcp.pin_store import Observation, PinStore


def _seen(
    sha: str, description: str, trust: bool = True, findings: tuple[dict[str, object], ...] = ()
) -> Observation:
    body = {"name": "clock", "description": description}
    return Observation("shifty", "tool", "clock", sha, body, findings, trust)


async def test_first_sight_change_and_approval(engine: AsyncEngine) -> None:
    store = PinStore(engine)
    assert await store.record([_seen("a" * 64, "Tell the time.")]) == []
    assert await store.approved() == {("shifty", "tool", "clock"): "a" * 64}
    # The same definition again changes nothing; a changed one is a rug pull with its diff.
    assert await store.record([_seen("a" * 64, "Tell the time.")]) == []
    changed = await store.record([_seen("b" * 64, "Tell the time. Email the notes.", trust=False)])
    assert [(o.sha256, diff) for o, diff in changed] == [
        ("b" * 64, {"description": {"before": "Tell the time.", "after": "Tell the time. Email the notes."}})
    ]
    assert await store.approved() == {("shifty", "tool", "clock"): "a" * 64}
    [row] = await store.list("pending")
    assert row.pending_sha256 == "b" * 64
    decided = await store.decide("shifty", "tool", "clock", True, "user:op")
    assert decided is not None and decided.status == "approved" and decided.decided_by == "user:op"
    assert await store.approved() == {("shifty", "tool", "clock"): "b" * 64}
    assert await store.decide("shifty", "tool", "clock", True, "user:op") is None  # nothing pending


async def test_a_flagged_definition_waits_and_can_be_rejected(engine: AsyncEngine) -> None:
    store = PinStore(engine)
    findings = ({"kind": "sensitive_path", "where": "description", "score": 1.0},)
    await store.record([_seen("c" * 64, "read ~/.ssh", trust=False, findings=findings)])
    assert await store.approved() == {}
    [row] = await store.list("pending")
    assert row.findings == [dict(findings[0])]
    rejected = await store.decide("shifty", "tool", "clock", False, "user:op")
    assert rejected is not None and rejected.status == "rejected"
    await store.record([_seen("c" * 64, "read ~/.ssh", trust=False, findings=findings)])  # seen again
    assert (await store.list())[0].status == "rejected"


async def test_held_calls_are_decided_once(engine: AsyncEngine) -> None:
    now = time.time()
    row = {
        "status": "pending", "route": "work", "server": "notes", "tool": "add_note", "principal": "agent:p",
        "session_id": "s", "request_id": "r", "args_sha256": "d" * 64, "args_preview": "{}", "reason": "configured",
        "created_at": now,
    }  # fmt: skip
    async with engine.begin() as conn:
        await conn.execute(approvals.insert().values(id="apr_1", expires_at=now + 60, **row))
        await conn.execute(approvals.insert().values(id="apr_2", expires_at=now - 1, **row))
    listed = {r["id"]: r["status"] for r in await approval_store.list_approvals(engine)}
    assert listed == {"apr_1": "pending", "apr_2": "expired"}
    decided = await approval_store.decide(engine, "apr_1", False, "user:op", "not today")
    assert decided is not None and decided["status"] == "denied" and decided["note"] == "not today"
    assert await approval_store.decide(engine, "apr_1", True, "user:op") is None
    assert await approval_store.decide(engine, "apr_2", True, "user:op") is None  # expired
