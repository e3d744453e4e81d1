"""Sealing events into a chain: sequence numbers, canonical bytes, hashes, and the row they make.

A chain belongs to one writer (one process). Record ``n`` of chain ``c`` is the event's JSON
plus ``{"v": 1, "chain": c, "seq": n}``; its hash is SHA-256(hash of record n-1 ‖ canonical
bytes), with 32 zero bytes before record 0. The indexed columns of a row are derived from the
body by ``index_columns``, so a verifier can check that nobody edited a column beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from tollhouse.audit.canonical import GENESIS_PREV, canonical, chain_hash
from tollhouse.audit.events import parse_time

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
        """The row's values, in ``ROW_COLUMNS`` order."""
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


def seal(
    event: dict[str, Any], chain_id: str, head: ChainHead, time_us: int = 0
) -> tuple[SealedRecord, ChainHead]:
    """Place ``event`` (``AuditEvent.to_record()``) after ``head``; return it sealed and the new head."""
    seq = head.seq + 1
    record = event | {"v": RECORD_VERSION, "chain": chain_id, "seq": seq}
    data = canonical(record)
    digest = chain_hash(head.hash, data)
    sealed = SealedRecord(chain_id, seq, digest.hex(), data.decode("utf-8"), record, time_us)
    return sealed, ChainHead(seq, digest)


_INDEX_COLUMNS = ROW_COLUMNS[3:-1]


def index_columns(record: dict[str, Any], time_us: int = 0) -> dict[str, Any]:
    """The searchable columns of a row, all taken from its hashed body (``time_us``: its time,
    when the caller already knows it)."""
    return dict(zip(_INDEX_COLUMNS, _index_values(record, time_us), strict=True))


def _index_values(record: dict[str, Any], time_us: int) -> tuple[Any, ...]:
    # A tuple in ``_INDEX_COLUMNS`` order: the writer builds one per record, so no dict.
    principal = record.get("principal") or {}
    verdicts = record.get("verdicts")
    return (
        record.get("id", ""),
        record.get("type", ""),
        time_us or (parse_time(record["time"]) if "time" in record else 0),
        record.get("request_id"),
        principal.get("id"),
        principal.get("kind"),
        principal.get("org"),
        record.get("session_id"),
        record.get("trace_id"),
        record.get("status"),
        worst_verdict(verdicts) if verdicts else None,
    )


def worst_verdict(verdicts: list[dict[str, Any]]) -> str | None:
    """The most severe outcome among a record's verdicts (the ``verdict`` search column)."""
    return max((v.get("outcome", "") for v in verdicts), key=lambda o: _VERDICT_RANK.get(o, 1), default=None)
