"""Tampering with the real database, one kind at a time: verify catches each and names the record."""

from __future__ import annotations

import base64
from pathlib import Path

import orjson
import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.audit_chain import make_writer, sample_event, service
from tollhouse.audit.canonical import canonical, chain_hash
from tollhouse.audit.chain import index_columns
from tollhouse.audit.queue import Entry
from tollhouse.audit.reader import UNREADABLE, AuditReader
from tollhouse.audit.search import SearchFilters
from tollhouse.audit.service import read_witness
from tollhouse.audit.tables import DERIVED_ON_SQLITE
from tollhouse.audit.verify import Problem


@pytest.fixture
async def chain(engine: AsyncEngine, tmp_path: Path) -> str:
    """A closed chain of 42 records (genesis, 40 events, close), checkpointed every 10 records."""
    writer = make_writer(engine, every=10, witness_file=str(tmp_path / "witness.jsonl"))
    await writer.start()
    for n in range(40):
        await writer.durable(Entry(sample_event(n).to_record()), 5.0)
    await writer.stop()
    assert (await service(engine).verify()).ok
    return writer.chain_id


async def _sql(engine: AsyncEngine, statement: str, **params: object) -> None:
    async with engine.begin() as conn:
        await conn.execute(text(statement), params)


async def _only_problem(engine: AsyncEngine, witness: Path | None = None) -> Problem:
    report = await service(engine).verify(witness=read_witness(witness) if witness else None)
    assert not report.ok
    return report.problems[0]


async def test_changed_field(engine: AsyncEngine, chain: str) -> None:
    await _sql(
        engine,
        'UPDATE audit_records SET body = replace(body, \'"route":"gpt-test"\', \'"route":"gpt-free"\') '
        "WHERE chain_id = :c AND seq = 7",
        c=chain,
    )
    problem = await _only_problem(engine)
    assert (problem.chain_id, problem.seq, problem.kind) == (chain, 7, "modified")


async def test_changed_index_column(engine: AsyncEngine, chain: str) -> None:
    await _sql(
        engine,
        "UPDATE audit_records SET session_id = 'sess-mallory' WHERE chain_id = :c AND seq = 8",
        c=chain,
    )
    problem = await _only_problem(engine)
    assert (problem.seq, problem.kind) == (8, "modified") and "session_id" in problem.message


async def test_changed_principal_column(engine: AsyncEngine, chain: str) -> None:
    change = "UPDATE audit_records SET principal_id = 'mallory' WHERE chain_id = :c AND seq = 8"
    if engine.dialect.name == "sqlite":
        # SQLite reads the column from the hashed body: there is nothing beside it to edit.
        with pytest.raises(OperationalError, match="no such column"):
            await _sql(engine, change, c=chain)
        assert (await service(engine).verify()).ok
        return
    await _sql(engine, change, c=chain)
    problem = await _only_problem(engine)
    assert (problem.seq, problem.kind) == (8, "modified") and "principal_id" in problem.message


async def test_deleted_record(engine: AsyncEngine, chain: str) -> None:
    await _sql(engine, "DELETE FROM audit_records WHERE chain_id = :c AND seq = 12", c=chain)
    problem = await _only_problem(engine)
    assert (problem.seq, problem.kind) == (12, "missing")


async def test_inserted_record(engine: AsyncEngine, chain: str) -> None:
    # The attacker makes room at 15 and writes a well-formed record whose hash links to 14.
    reader = AuditReader(engine)
    rows = [r async for r in reader.records(chain)]
    for row in reversed(rows[15:]):
        await _sql(
            engine,
            "UPDATE audit_records SET seq = seq + 1 WHERE chain_id = :c AND seq = :s",
            c=chain,
            s=row.seq,
        )
    forged = sample_event(15).to_record() | {"v": 1, "chain": chain, "seq": 15, "route": "gpt-forged"}
    digest = chain_hash(bytes.fromhex(rows[14].hash), canonical(forged))
    columns = index_columns(forged)
    if engine.dialect.name == "sqlite":  # the columns SQLite derives from the body are not written
        columns = {name: value for name, value in columns.items() if name not in DERIVED_ON_SQLITE}
    names = ", ".join(columns)
    marks = ", ".join(":" + name for name in columns)
    await _sql(
        engine,
        f"INSERT INTO audit_records (chain_id, seq, hash, body, {names}) "  # noqa: S608 - fixed names
        f"VALUES (:chain_id, 15, :hash, :body, {marks})",
        chain_id=chain,
        hash=digest.hex(),
        body=canonical(forged).decode(),
        **columns,
    )
    problem = await _only_problem(engine)
    assert (problem.seq, problem.kind) == (15, "inserted")


async def test_swapped_records(engine: AsyncEngine, chain: str) -> None:
    for old, new in ((20, -1), (21, 20), (-1, 21)):
        await _sql(
            engine,
            "UPDATE audit_records SET seq = :n WHERE chain_id = :c AND seq = :o",
            c=chain,
            o=old,
            n=new,
        )
    problem = await _only_problem(engine)
    assert (problem.seq, problem.kind) == (20, "reordered") and "swapped" in problem.message


async def test_truncated_tail(engine: AsyncEngine, chain: str) -> None:
    await _sql(engine, "DELETE FROM audit_records WHERE chain_id = :c AND seq >= 35", c=chain)
    problem = await _only_problem(engine)
    assert (problem.seq, problem.kind) == (35, "truncated")


async def test_truncated_tail_and_checkpoints_caught_by_the_witness(
    engine: AsyncEngine, chain: str, tmp_path: Path
) -> None:
    await _sql(engine, "DELETE FROM audit_records WHERE chain_id = :c AND seq >= 35", c=chain)
    await _sql(engine, "DELETE FROM audit_checkpoints WHERE chain_id = :c AND seq >= 35", c=chain)
    assert (await service(engine).verify()).ok  # the database alone now looks consistent…
    problem = await _only_problem(engine, tmp_path / "witness.jsonl")  # …the witness does not
    assert (problem.seq, problem.kind) == (35, "truncated")


async def test_replaced_checkpoint_signature(engine: AsyncEngine, chain: str) -> None:
    checkpoints = await AuditReader(engine).checkpoints(chain)
    target = checkpoints[1]
    forged = base64.b64encode(bytes(64)).decode()
    await _sql(
        engine,
        "UPDATE audit_checkpoints SET signature = :s WHERE chain_id = :c AND seq = :q",
        s=forged,
        c=chain,
        q=target.seq,
    )
    problem = await _only_problem(engine)
    assert (problem.seq, problem.kind) == (target.seq, "forged_checkpoint")


async def test_modified_and_rehashed_is_caught_by_the_next_checkpoint(
    engine: AsyncEngine, chain: str
) -> None:
    # A stronger attacker edits record 5 and recomputes every hash after it.
    rows = [r async for r in AuditReader(engine).records(chain)]
    prev = bytes.fromhex(rows[4].hash)
    for row in rows[5:]:
        record = orjson.loads(row.body)
        if row.seq == 5:
            record["route"] = "gpt-free"
        prev = chain_hash(prev, canonical(record))
        await _sql(
            engine,
            "UPDATE audit_records SET body = :b, hash = :h WHERE chain_id = :c AND seq = :s",
            b=canonical(record).decode(),
            h=prev.hex(),
            c=chain,
            s=row.seq,
        )
    first_checkpoint_after = min(c.seq for c in await AuditReader(engine).checkpoints(chain) if c.seq >= 5)
    problem = await _only_problem(engine)
    assert (problem.seq, problem.kind) == (first_checkpoint_after, "forged_checkpoint")


async def test_body_no_longer_json(engine: AsyncEngine, chain: str) -> None:
    """A body cut short is not JSON at all: verify still reaches it and names it, and search
    and the session tree still answer (the damaged record shows as ``unreadable``)."""
    await _sql(
        engine, "UPDATE audit_records SET body = substr(body, 1, 20) WHERE chain_id = :c AND seq = 7", c=chain
    )
    problem = await _only_problem(engine)
    assert (problem.chain_id, problem.seq, problem.kind) == (chain, 7, "modified")
    found = await service(engine).search(SearchFilters(limit=100))
    assert [(r["chain"], r["seq"]) for r in found if r["type"] == UNREADABLE] == [(chain, 7)]
    assert (await service(engine).session_timeline("sess-1")).calls == 20  # 19 whole calls + one half


async def test_deleted_chain_row(engine: AsyncEngine, chain: str) -> None:
    """Without its chain row a chain would not be verified at all: its records are reported."""
    await _sql(engine, "DELETE FROM audit_chains WHERE chain_id = :c", c=chain)
    problem = await _only_problem(engine)
    assert (problem.chain_id, problem.seq, problem.kind) == (chain, 0, "unregistered")


async def test_checkpoint_moved_to_a_chain_that_does_not_exist(engine: AsyncEngine, chain: str) -> None:
    await _sql(
        engine,
        "UPDATE audit_checkpoints SET chain_id = 'elsewhere' WHERE chain_id = :c AND seq = 19",
        c=chain,
    )
    problem = await _only_problem(engine)
    assert (problem.chain_id, problem.seq, problem.kind) == ("elsewhere", 19, "unregistered")


async def test_chain_row_rewritten_to_name_another_writer(engine: AsyncEngine, chain: str) -> None:
    """The chain row is not hashed, but who wrote the chain is also in its genesis record."""
    await _sql(engine, "UPDATE audit_chains SET host = 'elsewhere', pid = 1 WHERE chain_id = :c", c=chain)
    problem = await _only_problem(engine)
    assert (problem.chain_id, problem.seq, problem.kind) == (chain, 0, "modified")
    assert "host 'elsewhere'" in problem.message and "pid 1" in problem.message
