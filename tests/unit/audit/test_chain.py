"""Sealing: sequence, hashes, and the row written for a record."""

from __future__ import annotations

import sqlite3

from tollhouse.audit import tables
from tollhouse.audit.canonical import GENESIS_PREV, canonical, chain_hash
from tollhouse.audit.chain import ROW_COLUMNS, ChainHead, index_columns, insert_records_sql, seal
from tollhouse.audit.events import AuditEvent, EventType, PrincipalRef, Verdict


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
