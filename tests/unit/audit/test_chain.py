"""Sealing: sequence, hashes, and the row written for a record."""

from __future__ import annotations

import sqlite3

from tollhouse.audit import tables
from tollhouse.audit.canonical import GENESIS_PREV, canonical, chain_hash
from tollhouse.audit.chain import (
    ROW_COLUMNS,
    ChainHead,
    index_columns,
    index_values,
    insert_records_sql,
    seal,
    seal_rows,
    sealed_record,
)
from tollhouse.audit.events import AuditEvent, EventType, PrincipalRef, Verdict
from tollhouse.audit.queue import Entry


def test_records_chain_onto_each_other() -> None:
    first = AuditEvent(EventType.LLM_REQUEST, principal=PrincipalRef("agent", "a1", "org")).to_record()
    second = AuditEvent(EventType.LLM_RESPONSE, status=200).to_record()
    one, head = seal(first, "c1", ChainHead())
    two, head = seal(second, "c1", head)
    assert (one.seq, two.seq, head.seq) == (0, 1, 1)
    assert one.record == first | {"v": 1, "chain": "c1", "seq": 0}
    assert bytes.fromhex(one.hash) == chain_hash(GENESIS_PREV, canonical(one.record))
    assert bytes.fromhex(two.hash) == chain_hash(bytes.fromhex(one.hash), two.body.encode()) == head.hash


def test_rows_hold_the_index_columns_in_table_order() -> None:
    assert set(ROW_COLUMNS) == {c.name for c in tables.records.columns}
    event = AuditEvent(
        EventType.POLICY_DECISION,
        principal=PrincipalRef("user", "alice", "org-b"),
        status=403,
        verdicts=(Verdict("guard:pii", "flag"), Verdict("authorize", "deny")),
    )
    sealed, _ = seal(event.to_record(), "c1", ChainHead(), event.time_us)
    columns = ", ".join(ROW_COLUMNS)
    conn = sqlite3.connect(":memory:")
    conn.execute(f"CREATE TABLE audit_records ({columns})")
    conn.execute(insert_records_sql(["?"] * len(ROW_COLUMNS)), sealed.row())
    stored = conn.execute(f"SELECT {columns} FROM audit_records").fetchone()  # noqa: S608 - fixed names
    row = dict(zip(ROW_COLUMNS, stored, strict=True))
    assert row == {"chain_id": "c1", "seq": 0, "hash": sealed.hash, "body": sealed.body} | index_columns(
        sealed.record
    )
    # Absent fields are NULL in the database (the row binds stand-ins, the INSERT maps them).
    assert (row["request_id"], row["session_id"], row["trace_id"]) == (None, None, None)
    assert (row["principal_id"], row["org_id"], row["verdict"], row["time_us"]) == (
        "alice",
        "org-b",
        "deny",
        event.time_us,
    )


def test_the_writers_rows_are_the_records_sealed_one_by_one() -> None:
    events = [
        AuditEvent(EventType.LLM_REQUEST, principal=PrincipalRef("agent", "a1", "org"), session_id="s"),
        AuditEvent(EventType.LLM_RESPONSE, status=200, verdicts=(Verdict("authorize", "deny"),)),
        AuditEvent(EventType.CHAIN_CLOSE),
    ]
    entries = [Entry(e.to_record(), time_us=e.time_us) for e in events]
    # A producer that knows the search columns passes them; the others are read from the record.
    entries[0].index = index_values(entries[0].record, events[0].time_us)
    start = ChainHead(6, bytes(range(32)))
    rows, head = seal_rows(entries, "c1", start)
    expected, one_by_one = [], start
    for event in events:
        sealed, one_by_one = seal(event.to_record(), "c1", one_by_one, event.time_us)
        expected.append(sealed)
    assert head == one_by_one and [r[1] for r in rows] == [7, 8, 9]
    assert rows == [s.row() for s in expected]
    again = sealed_record(rows[1], entries[1].record)
    assert (again.chain_id, again.seq, again.hash, again.body, again.record, again.time_us) == (
        "c1",
        8,
        expected[1].hash,
        expected[1].body,
        expected[1].record,
        events[1].time_us,
    )
