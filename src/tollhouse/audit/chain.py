"""Sealing events into a chain: sequence numbers, canonical bytes, hashes, and the row they make.

A chain belongs to one writer (one process). Record ``n`` of chain ``c`` is the event's JSON
plus ``{"v": 1, "chain": c, "seq": n}``; its hash is SHA-256(hash of record n-1 ‖ canonical
bytes), with 32 zero bytes before record 0. The indexed columns of a row are derived from the
body by ``index_columns``, so a verifier can check that nobody edited a column beside it.
"""

from __future__ import annotations

import hashlib
import operator
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

import orjson

from tollhouse.audit import tables
from tollhouse.audit.canonical import CANONICAL_OPTIONS, GENESIS_PREV, canonical, chain_hash
from tollhouse.audit.events import parse_time

if TYPE_CHECKING:
    from tollhouse.audit.queue import Entry

RECORD_VERSION = 1
_VERDICT_RANK = {"deny": 4, "block": 4, "redact": 3, "flag": 2, "reply": 1, "allow": 0}


class ChainHead(NamedTuple):
    """Where a chain stands: the last sequence number and its hash (``seq`` -1: empty)."""

    seq: int = -1
    hash: bytes = GENESIS_PREV


@dataclass(slots=True)
class SealedRecord:
    """A record with its place in the chain, ready to be written as one row."""

    chain_id: str
    seq: int
    hash: str  # hex
    body: str  # the canonical JSON text that was hashed
    record: dict[str, Any]
    time_us: int = 0

    def row(self) -> tuple[Any, ...]:
        """The row's values, in ``ROW_COLUMNS`` order (an absent nullable column as ``''`` or 0,
        which ``insert_records_sql`` stores as NULL)."""
        return (self.chain_id, self.seq, self.hash, *_index_values(self.record, self.time_us), self.body)


ROW_COLUMNS = (
    "chain_id",
    "seq",
    "hash",
    "event_id",
    "type",
    "time_us",
    "request_id",
    "principal_id",
    "principal_kind",
    "org_id",
    "session_id",
    "trace_id",
    "status",
    "verdict",
    "body",
)


# Nullable columns and the value that stands for NULL in a row. Rows carry ``''`` or 0 and the
# INSERT turns them into NULL with NULLIF: binding None costs Python's sqlite3 module two
# failed adapter lookups (each a formatted AttributeError) per value, per row.
NULL_STAND_INS = {
    "request_id": "''",
    "principal_id": "''",
    "principal_kind": "''",
    "org_id": "''",
    "session_id": "''",
    "trace_id": "''",
    "status": "0",
    "verdict": "''",
}


# The search columns SQLite reads from the body rather than stores (``tables.DERIVED_ON_SQLITE``,
# migration ``audit_0003``): a SQLite row binds only the others, ``SQLITE_ROW_COLUMNS``.
SQLITE_ROW_COLUMNS = tuple(c for c in ROW_COLUMNS if c not in tables.DERIVED_ON_SQLITE)
# A row of ``ROW_COLUMNS`` values to the values of ``SQLITE_ROW_COLUMNS``, in C.
sqlite_row = operator.itemgetter(*(ROW_COLUMNS.index(c) for c in SQLITE_ROW_COLUMNS))


def insert_records_sql(marks: Sequence[str], columns: Sequence[str] = ROW_COLUMNS) -> str:
    """The INSERT of one row into ``audit_records`` with the driver's placeholders ``marks``
    (one per column of ``columns``: ``ROW_COLUMNS``, or ``SQLITE_ROW_COLUMNS`` on SQLite),
    mapping the NULL stand-ins of ``SealedRecord.row`` to NULL."""
    values = ", ".join(
        f"NULLIF({mark}, {NULL_STAND_INS[column]})" if column in NULL_STAND_INS else mark
        for column, mark in zip(columns, marks, strict=True)
    )
    return f"INSERT INTO audit_records ({', '.join(columns)}) VALUES ({values})"  # noqa: S608 - fixed names


def seal_rows(
    entries: Sequence[Entry], chain_id: str, head: ChainHead, rejected: list[Entry] | None = None
) -> tuple[list[tuple[Any, ...]], ChainHead]:
    """Place ``entries`` after ``head``, in order; return their rows and the new head.

    The writer's loop: the same recipe as ``seal``, but straight to the rows the database
    takes, with the hash chained through locals (no object per record) and the index columns
    the producer already knew (``Entry.index``) rather than read back from the record.

    ``rejected``: where an entry goes that has no canonical form (a string with a lone
    surrogate, say, from a token's claims) instead of raising — it takes no place in the chain."""
    seq, prev = head
    rows: list[tuple[Any, ...]] = []
    append, dumps, sha256 = rows.append, orjson.dumps, hashlib.sha256
    for entry in entries:
        event = entry.record
        event["v"], event["chain"], event["seq"] = RECORD_VERSION, chain_id, seq + 1
        try:
            data = dumps(event, option=CANONICAL_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError is one
            if rejected is None:
                raise
            rejected.append(entry)
            continue
        seq += 1
        prev = sha256(prev + data).digest()
        index = entry.index or _index_values(event, entry.time_us)
        append((chain_id, seq, prev.hex(), *index, data.decode("utf-8")))
    return rows, ChainHead(seq, prev)


def sealed_record(row: tuple[Any, ...], record: dict[str, Any]) -> SealedRecord:
    """The ``SealedRecord`` of a row ``seal_rows`` made (for the writer's listeners)."""
    return SealedRecord(row[0], row[1], row[2], row[-1], record, row[_TIME_AT])


def seal(
    event: dict[str, Any], chain_id: str, head: ChainHead, time_us: int = 0
) -> tuple[SealedRecord, ChainHead]:
    """Place ``event`` (``AuditEvent.to_record()``) after ``head``; return it sealed and the new head.

    ``event`` becomes the sealed record: its place is written into it rather than into a copy
    (a record is sealed again, in a new place, only after a failed commit)."""
    seq = head.seq + 1
    event["v"], event["chain"], event["seq"] = RECORD_VERSION, chain_id, seq
    data = canonical(event)
    digest = chain_hash(head.hash, data)
    sealed = SealedRecord(chain_id, seq, digest.hex(), data.decode("utf-8"), event, time_us)
    return sealed, ChainHead(seq, digest)


# The search columns of a row: what ``index_values`` gives and the verifier compares.
INDEX_COLUMNS = ROW_COLUMNS[3:-1]
_TIME_AT = ROW_COLUMNS.index("time_us")


def index_columns(record: dict[str, Any], time_us: int = 0) -> dict[str, Any]:
    """The searchable columns of a row as the database holds them (None: NULL), all taken from
    its hashed body (``time_us``: its time, when the caller already knows it)."""
    return {
        name: (value or None) if name in NULL_STAND_INS else value
        for name, value in zip(INDEX_COLUMNS, _index_values(record, time_us), strict=True)
    }


_NO_PRINCIPAL: dict[str, Any] = {}


def index_values(record: dict[str, Any], time_us: int = 0) -> tuple[Any, ...]:
    """The searchable column values of a row (``ROW_COLUMNS[3:-1]``, NULLs as stand-ins),
    read from its record: what ``Entry.index`` must equal when a producer sets it."""
    return _index_values(record, time_us)


def _index_values(record: dict[str, Any], time_us: int) -> tuple[Any, ...]:
    # A tuple in ``INDEX_COLUMNS`` order: the writer builds one per record, so no dict.
    principal = record.get("principal") or _NO_PRINCIPAL
    verdicts = record.get("verdicts")
    return (
        record.get("id", ""),
        record.get("type", ""),
        time_us or (parse_time(record["time"]) if "time" in record else 0),
        record.get("request_id") or "",
        principal.get("id") or "",
        principal.get("kind") or "",
        principal.get("org") or "",
        record.get("session_id") or "",
        record.get("trace_id") or "",
        record.get("status") or 0,
        (worst_verdict(verdicts) or "") if verdicts else "",
    )


def worst_verdict(verdicts: list[dict[str, Any]]) -> str | None:
    """The most severe outcome among a record's verdicts (the ``verdict`` search column)."""
    return max((v.get("outcome", "") for v in verdicts), key=lambda o: _VERDICT_RANK.get(o, 1), default=None)
