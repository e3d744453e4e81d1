"""The spend ledger, killed sessions and spend reports over SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time

from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.identity.principal import Principal
from tollhouse.limits.kills import active_kills, get_kill, kill_session, revive_session
from tollhouse.limits.ledger import LedgerWriter, ledger_row
from tollhouse.limits.reports import ledger_rows, spend_report, to_csv
from tollhouse.model.chat import Usage
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.phases import CallKind


def _call(i: int, team: str, session: str, model: str, cost_nusd: int) -> tuple[RequestContext, int]:
    ctx = RequestContext(f"req-{i}", "chat", CallKind.LLM, {}, None, 0.0)
    ctx.principal = Principal("agent", f"agent-{team}", org_id="acme", team_id=team, key_id=f"key-{team}")
    ctx.session_id, ctx.model, ctx.provider, ctx.upstream_model = session, model, "fake", "m"
    ctx.status, ctx.usage = 200, Usage(prompt_tokens=10 + i, completion_tokens=i)
    return ctx, cost_nusd


async def test_rows_are_written_in_batches_and_reported(engine: AsyncEngine) -> None:
    writer = LedgerWriter(flush_interval_s=60, batch_max=3)
    writer.start(engine)
    calls = [
        _call(1, "ml", "s1", "gpt", 1_000),
        _call(2, "ml", "s1", "gpt", 2_000),
        _call(3, "ops", "s2", "claude", 4_000),
        _call(4, "ml", "s3", "claude", 8_000),
    ]
    for ctx, cost in calls:
        writer.record(ledger_row(ctx, cost, estimated=ctx.request_id == "req-4"))
    await writer.stop()
    assert writer.written == 4
    by_team = {row.group: row for row in await spend_report(engine, "team")}
    assert (by_team["ml"].calls, by_team["ml"].cost_nusd, by_team["ml"].estimated_calls) == (3, 11_000, 1)
    assert (by_team["ops"].input_tokens, by_team["ops"].output_tokens) == (13, 3)
    by_model = await spend_report(engine, "model", filters={"team": "ml"})
    assert [(r.group, r.cost_nusd) for r in by_model] == [("claude", 8_000), ("gpt", 3_000)]
    by_session = await spend_report(engine, "session", filters={"agent": "agent-ml"})
    assert {r.group for r in by_session} == {"s1", "s3"}
    day = time.strftime("%Y-%m-%d", time.gmtime())
    assert [r.group for r in await spend_report(engine, "day")] == [day]
    assert await spend_report(engine, "key", since_us=int(time.time() * 1e6) + 10**7) == []


async def test_export_is_csv_of_every_row(engine: AsyncEngine) -> None:
    writer = LedgerWriter(batch_max=10)
    writer.start(engine)
    ctx, cost = _call(7, "ml", "s9", "gpt", 1_500_000_000)
    writer.record(ledger_row(ctx, cost, estimated=False))
    await writer.stop()
    rows = await ledger_rows(engine, filters={"session": "s9"})
    assert len(rows) == 1
    assert rows[0]["cost_usd"] == 1.5
    text = to_csv(["request_id", "team_id", "cost_usd"], rows)
    assert text == "request_id,team_id,cost_usd\nreq-7,ml,1.5\n"


async def test_a_database_outage_keeps_rows_for_the_next_flush(engine: AsyncEngine) -> None:
    writer = LedgerWriter(flush_interval_s=60, batch_max=10)
    ctx, cost = _call(5, "ml", "s5", "gpt", 10)
    writer.record(ledger_row(ctx, cost, estimated=False))
    await writer.flush()  # not started: no engine yet, the row waits
    writer.start(engine)
    await writer.stop()
    assert writer.written == 1
    assert len(await ledger_rows(engine)) == 1


async def test_long_values_from_callers_and_upstreams_are_written(engine: AsyncEngine) -> None:
    # One value longer than a VARCHAR column failed its batch on every retry (``usage_0002``).
    writer = LedgerWriter(flush_interval_s=60, batch_max=10)
    writer.start(engine)
    ctx, cost = _call(6, "ml", "s" * 255, "gpt", 10)
    ctx.principal = Principal("user", "u" * 1_024, org_id="acme")
    ctx.upstream_model = "m" * 1_000  # what the upstream said it ran
    writer.record(ledger_row(ctx, cost, estimated=False))
    await writer.stop()
    assert writer.written == 1
    (row,) = await ledger_rows(engine)
    assert row["upstream_model"] == "m" * 1_000 and row["principal"] == "user:" + "u" * 1_024


async def test_the_queue_bound_counts_lost_rows() -> None:
    writer = LedgerWriter(queue_max=100)
    ctx, cost = _call(1, "ml", "s", "gpt", 1)
    for _ in range(105):
        writer.record(ledger_row(ctx, cost, estimated=False))
    assert writer.lost == 5


async def test_kills_are_recorded_listed_and_lifted(engine: AsyncEngine) -> None:
    first = await kill_session(engine, "sess-a", "user:root", "runaway agent")
    await kill_session(engine, "sess-b", "cli:ops", "", ttl_s=0.001)
    await asyncio.sleep(0.01)
    assert [k.session_id for k in await active_kills(engine)] == ["sess-a"]  # sess-b has expired
    again = await kill_session(engine, "sess-a", "user:other", "again")
    assert again.killed_at >= first.killed_at
    shown = await get_kill(engine, "sess-a")
    assert shown is not None
    assert (shown.actor, shown.reason) == ("user:other", "again")
    assert await revive_session(engine, "sess-a")
    assert not await revive_session(engine, "sess-a")
    assert await get_kill(engine, "sess-a") is None
