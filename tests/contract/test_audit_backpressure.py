"""When the writer cannot keep up: drops are recorded in the chain, spilled records come back."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.audit_chain import make_writer, sample_event, service
from tollhouse.audit.queue import AuditQueue, Entry
from tollhouse.audit.reader import AuditReader
from tollhouse.audit.spill import SpillFile


async def _records(engine: AsyncEngine, chain_id: str) -> list[dict[str, object]]:
    return [orjson.loads(r.body) async for r in AuditReader(engine).records(chain_id)]


async def test_allowed_drops_are_counted_in_the_chain(engine: AsyncEngine) -> None:
    writer = make_writer(engine)
    writer.queue = AuditQueue(4, "drop", 1.0, batch_max=500)
    await writer.start()
    accepted = sum(writer.queue.offer(Entry(sample_event(n).to_record())) for n in range(10))
    await writer.stop()
    records = await _records(engine, writer.chain_id)
    (dropped,) = [r for r in records if r["type"] == "audit.dropped"]
    assert accepted == 4 and dropped["detail"] == {"dropped_queue_full": 6}
    assert (await service(engine).verify()).ok


async def test_spilled_records_are_replayed_into_the_chain(engine: AsyncEngine, tmp_path: Path) -> None:
    spill = SpillFile(str(tmp_path / "spill.jsonl"))
    writer = make_writer(engine)
    writer.queue = queue = AuditQueue(4, "spill", 1.0, spill=spill, batch_max=500)
    await writer.start()
    events = [sample_event(n) for n in range(10)]
    for event in events:
        queue.offer(Entry(event.to_record()))
    await spill.flush()
    assert len((tmp_path / "spill.jsonl").read_bytes().splitlines()) == 6
    queue.requeue(await spill.replay())  # what the spill task does once the queue has room
    await writer.stop()
    assert not (tmp_path / "spill.jsonl").exists()
    ids = {r["id"] for r in await _records(engine, writer.chain_id)}
    assert {e.id for e in events} <= ids  # every record made it, none silently lost
    assert (await service(engine).verify()).ok


async def test_shutdown_without_a_database_spills_instead_of_hanging(
    engine: AsyncEngine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spill = SpillFile(str(tmp_path / "spill.jsonl"))
    writer = make_writer(engine)
    writer.queue = queue = AuditQueue(100, "spill", 1.0, spill=spill, batch_max=500)
    await writer.start()
    async with engine.begin() as conn:
        await conn.execute(text("ALTER TABLE audit_records RENAME TO audit_records_away"))
    for n in range(3):
        queue.offer(Entry(sample_event(n).to_record()))
    await writer.stop()  # stops, saying the close record could not be written either
    assert "audit shutdown: could not append chain.close after 5 tries" in caplog.text
    await spill.flush()
    spilled = [orjson.loads(line) for line in (tmp_path / "spill.jsonl").read_bytes().splitlines()]
    assert [r["request_id"] for r in spilled] == ["req_0", "req_0", "req_1"]
