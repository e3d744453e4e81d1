"""The statements a chain writer's batch runs, for either database's placeholder style."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any, NamedTuple

from tollhouse.audit.chain import ROW_COLUMNS, SQLITE_ROW_COLUMNS, insert_records_sql, sqlite_row

ROWS_PER_INSERT = 64  # most records per multi-row INSERT (x 15 columns at most: far below the limits)

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
    """One batch's statements: records (multi-row INSERTs by row count, SQLite only), content,
    a checkpoint, the chain's heartbeat."""

    records: dict[int, str]
    content: str
    checkpoint: str
    heartbeat: str
    # A sealed row to the values the records' INSERT binds (None: all of them).
    project: Callable[[tuple[Any, ...]], tuple[Any, ...]] | None = None

    @classmethod
    def with_marks(cls, mark: Callable[[int], str], sqlite: bool = False) -> AppendSql:
        """The statements with ``mark(i)`` as the i-th placeholder (from 1): ``?`` or ``$i``.

        ``sqlite``: records bind ``SQLITE_ROW_COLUMNS`` (SQLite derives the other search
        columns from the body); without it there are no record statements."""
        columns = SQLITE_ROW_COLUMNS if sqlite else ROW_COLUMNS

        def insert(table: str, columns: tuple[str, ...]) -> str:
            marks = ", ".join(mark(i) for i in range(1, len(columns) + 1))
            return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"  # noqa: S608 - fixed names

        # Only SQLite inserts records by statement; PostgreSQL copies them (``pg_append``).
        sizes = power_parts(2 * ROWS_PER_INSERT - 1) if sqlite else []
        return cls(
            records={n: records_insert_sql(mark, n, columns) for n in sizes},
            content=insert("audit_content", _CONTENT_COLUMNS),
            checkpoint=insert("audit_checkpoints", _CHECKPOINT_COLUMNS),
            heartbeat=f"UPDATE audit_chains SET heartbeat_us = {mark(1)} WHERE chain_id = {mark(2)}",  # noqa: S608
            project=sqlite_row if sqlite else None,
        )

    def record_inserts(self, rows: Sequence[tuple[Any, ...]]) -> list[tuple[str, tuple[Any, ...]]]:
        """``rows`` as (statement, flat parameters) pairs, one per ``power_parts`` piece."""
        inserts, start, project = [], 0, self.project
        for count in power_parts(len(rows)):
            part = rows[start : start + count]
            params = tuple(itertools.chain.from_iterable(part if project is None else map(project, part)))
            inserts.append((self.records[count], params))
            start += count
        return inserts


def records_insert_sql(mark: Callable[[int], str], count: int, columns: Sequence[str] = ROW_COLUMNS) -> str:
    """One INSERT of ``count`` records, placeholders ``mark(1)``… row after row (the NULL
    stand-ins mapped as in ``insert_records_sql``)."""
    width = len(columns)
    statements = [
        insert_records_sql([mark(r * width + i) for i in range(1, width + 1)], columns) for r in range(count)
    ]
    head = statements[0].split(" VALUES ", 1)[0]
    return f"{head} VALUES {', '.join(s.split(' VALUES ', 1)[1] for s in statements)}"


def power_parts(count: int) -> list[int]:
    """``count`` rows as INSERTs of ``ROWS_PER_INSERT`` rows, then its binary digits below
    that: a few statement sizes cover every batch, so they stay prepared."""
    parts = [ROWS_PER_INSERT] * (count // ROWS_PER_INSERT)
    rest = count % ROWS_PER_INSERT
    while rest:
        part = 1 << (rest.bit_length() - 1)
        parts.append(part)
        rest -= part
    return parts
