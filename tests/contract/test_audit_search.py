"""Search filters and the session tree, over every backend."""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.audit_chain import make_writer, sample_event, service
from tollhouse.audit.events import AuditEvent, EventType, PrincipalRef, Verdict
from tollhouse.audit.queue import Entry
from tollhouse.audit.search import SearchFilters


async def _write(engine: AsyncEngine, events: list[AuditEvent]) -> None:
    writer = make_writer(engine)
    await writer.start()
    for event in events:
        writer.queue.offer(Entry(event.to_record()))
    await writer.stop()


async def test_filters_narrow_and_results_are_newest_first(engine: AsyncEngine) -> None:
    human = PrincipalRef("user", "alice", "org-b")
    events = [sample_event(n) for n in range(6)]
    events.append(
        AuditEvent(
            EventType.POLICY_DECISION,
            principal=human,
            status=403,
            verdicts=(Verdict("authorize", "deny", "cedar"),),
        )
    )
    await _write(engine, events)
    audit = service(engine)
    everything = await audit.search(SearchFilters(limit=100))
    assert len(everything) == 9 and everything[0]["type"] == "chain.close"  # newest first
    assert len(await audit.search(SearchFilters(agent="planner"))) == 6
    assert await audit.search(SearchFilters(agent="alice")) == []  # alice is not an agent
    (denied,) = await audit.search(SearchFilters(verdict="deny"))
    assert denied["principal"]["id"] == "alice" and len(denied["hash"]) == 64
    assert len(await audit.search(SearchFilters(org="org-b", status=403))) == 1
    responses = await audit.search(SearchFilters(type="llm.response", session="sess-1", limit=2))
    assert [r["request_id"] for r in responses] == ["req_2", "req_1"]
    middle = events[2].time_us
    assert all(
        r["time"] >= events[2].to_record()["time"] for r in await audit.search(SearchFilters(since_us=middle))
    )
    assert (
        len(await audit.search(SearchFilters(trace="4bf92f3577b34da6a3ce929d0e0e4736", until_us=middle))) == 2
    )


async def test_session_tree_nests_calls_by_parent_span_and_sums_costs(engine: AsyncEngine) -> None:
    tool = AuditEvent(EventType.TOOL_CALL, session_id="s", span_id="a" * 16, detail={"tool": "search"})
    calls = [replace(sample_event(n, session="s"), parent_span_id="a" * 16) for n in range(4)]
    await _write(engine, [tool, *calls])
    timeline = await service(engine).session_timeline("s")
    (root,) = timeline.roots
    assert root.kind == "tool" and [c.kind for c in root.children] == ["llm", "llm"]
    assert [len(c.events) for c in root.children] == [2, 2]
    assert timeline.calls == 3 and timeline.total_tokens == (10 + 1) + (10 + 3)
    assert timeline.cost_micro_usd == 3 + 9
    tree = timeline.to_json()
    assert tree["roots"][0]["children"][0]["status"] == 200


async def test_sqlite_keeps_two_search_indexes_and_sessions_stay_an_index_lookup(engine: AsyncEngine) -> None:
    """SQLite maintains its indexes in the gateway's process: only time and (partial) session.

    Searching by session, trace or request works on every backend."""
    await _write(engine, [sample_event(n) for n in range(4)] + [replace(sample_event(9), session_id=None)])
    audit = service(engine)
    assert len(await audit.search(SearchFilters(session="sess-1"))) == 4
    assert len(await audit.search(SearchFilters(request="req_1"))) == 2
    assert len(await audit.search(SearchFilters(trace="4bf92f3577b34da6a3ce929d0e0e4736"))) == 5
    if engine.dialect.name != "sqlite":
        return
    async with engine.connect() as conn:
        rows = await conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'audit_records'"
            " AND sql IS NOT NULL"
        )
        indexes = {name: sql for name, sql in rows.all()}
        plan = await conn.exec_driver_sql(
            "EXPLAIN QUERY PLAN SELECT seq FROM audit_records WHERE session_id = 'sess-1'"
        )
        steps = " ".join(str(row[-1]) for row in plan.all())
    assert set(indexes) == {"ix_audit_records_time", "ix_audit_records_session"}
    assert "session_id IS NOT NULL" in indexes["ix_audit_records_session"]
    assert "ix_audit_records_session" in steps
