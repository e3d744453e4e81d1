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
