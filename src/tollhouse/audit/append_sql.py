"""The statements a chain writer's batch runs, for either database's placeholder style."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from tollhouse.audit.chain import ROW_COLUMNS, insert_records_sql

_CONTENT_COLUMNS = (
    "event_id",
    "part",
    "org_id",
    "sha256",
    "key_version",
    "created_us",
    "nonce",
    "ciphertext",
)
_CHECKPOINT_COLUMNS = ("chain_id", "seq", "hash", "time_us", "key_id", "signature")


class AppendSql(NamedTuple):
    """One batch's statements: records, content, a checkpoint, the chain's heartbeat."""

    records: str
    content: str
    checkpoint: str
    heartbeat: str

    @classmethod
    def with_marks(cls, mark: Callable[[int], str]) -> AppendSql:
        """The statements with ``mark(i)`` as the i-th placeholder (from 1): ``?`` or ``$i``."""

        def insert(table: str, columns: tuple[str, ...]) -> str:
            marks = ", ".join(mark(i) for i in range(1, len(columns) + 1))
            return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - fixed names

        return cls(
            records=insert_records_sql([mark(i) for i in range(1, len(ROW_COLUMNS) + 1)]),
            content=insert("audit_content", _CONTENT_COLUMNS),
            checkpoint=insert("audit_checkpoints", _CHECKPOINT_COLUMNS),
            heartbeat=f"UPDATE audit_chains SET heartbeat_us = {mark(1)} WHERE chain_id = {mark(2)}",  # noqa: S608
        )
