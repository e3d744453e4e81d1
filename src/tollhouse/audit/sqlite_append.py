"""Group commits to a SQLite chain database straight through ``sqlite3``.

Going through SQLAlchemy and aiosqlite, one commit is a pool checkout, a hop to aiosqlite's
thread and back for every statement (begin, each insert, the heartbeat, commit) and a
rollback when the connection goes back to the pool. Here a batch — records, content,
checkpoint, heartbeat — is one transaction on a connection of our own:

- a batch of up to ``INLINE_MAX_ROWS`` rows (every batch at the default ``batch_max``: strict
  mode's commits of the calls that arrived meanwhile, async mode's of 256 records) is written
  on the event loop's thread. It is a WAL append without fsync, a few microseconds a row.
  Handing it to a thread costs more, above all in GIL hand-offs: the thread needs the GIL to
  bind each statement and waits up to the switch interval (5 ms) for a busy loop to give it
  up, so at 256 connections an async writer going through the thread fell further behind
  every second. That connection never waits for a lock (``busy_timeout=0``) and never
  checkpoints the WAL (which fsyncs): a locked database sends the batch to the thread, and
  the thread checkpoints the WAL every ``_CHECKPOINT_ROWS`` rows written inline.
- a bigger batch (a raised ``batch_max``, a spill file read back) goes to one dedicated thread
  with its own connection, so the loop keeps serving while it is written.

Records go in as multi-row INSERTs: one statement execution for many rows costs less than
``executemany``'s step and reset per row. A batch of n rows is split by the binary digits of
n (64, 32, …, 1 rows a statement), so seven statements cover every size and stay compiled:
preparing a statement for each new row count would cost more than the rows. A batch that is
one such INSERT and nothing else runs in autocommit: the statement is its own transaction.

SQLite serialises these writes with the engine's (WAL, locks), so the rest of the audit code
keeps using the engine.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from tollhouse.audit.append_sql import AppendSql

_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "foreign_keys=ON", "busy_timeout=30000")
_INLINE_PRAGMAS = ("journal_mode=WAL", "synchronous=NORMAL", "busy_timeout=0", "wal_autocheckpoint=0")
INLINE_MAX_ROWS = 1024  # batches up to this many rows are written on the loop's thread
_CHECKPOINT_ROWS = 4000  # rows written inline between two WAL checkpoints (run in the thread)


log = logging.getLogger("tollhouse.audit")
_SQL = AppendSql.with_marks(lambda _: "?", sqlite=True)


class SqliteAppender:
    """Commits batches atomically: small ones on the loop's thread, big ones in its own thread."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="audit-sqlite")
        self._conn: sqlite3.Connection | None = None  # opened and used only in the pool's thread
        self._inline: sqlite3.Connection | None = None  # opened and used only on the loop's thread
        self._inline_rows = 0
        self._checkpointing: asyncio.Future[None] | None = None

    async def append(
        self,
        chain_id: str,
        rows: Sequence[tuple[Any, ...]],
        content: Sequence[tuple[Any, ...]],
        checkpoint: tuple[Any, ...] | None,
        now_us: int | None,
    ) -> None:
        """Write one batch in one transaction: all of it is durable when this returns, or none."""
        loop = asyncio.get_running_loop()
        if content:  # bytes would take the sqlite3 module's slow adapter path; bytearray does not
            content = [(*row[:6], bytearray(row[6]), bytearray(row[7])) for row in content]
        if len(rows) + len(content) <= INLINE_MAX_ROWS:
            try:
                _write(self._inline_connection(), chain_id, rows, content, checkpoint, now_us)
            except sqlite3.OperationalError as exc:
                if not _is_busy(exc):
                    raise
            else:
                self._inline_rows += len(rows) + len(content)
                if self._inline_rows >= _CHECKPOINT_ROWS and self._checkpointing is None:
                    self._inline_rows = 0
                    self._checkpointing = loop.run_in_executor(self._pool, self._checkpoint_wal)
                    self._checkpointing.add_done_callback(self._checkpointed)
                return
        await loop.run_in_executor(self._pool, self._append, (chain_id, rows, content, checkpoint, now_us))

    async def close(self) -> None:
        if self._checkpointing is not None:
            with contextlib.suppress(sqlite3.Error):
                await self._checkpointing
        if self._inline is not None:
            self._inline.close()
            self._inline = None
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._pool, self._close)
        self._pool.shutdown(wait=True)

    def _inline_connection(self) -> sqlite3.Connection:
        if self._inline is None:
            self._inline = _connect(self._path, _INLINE_PRAGMAS, timeout=0)
        return self._inline

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            self._conn = _connect(self._path, _PRAGMAS, timeout=30)
        return self._conn

    def _checkpoint_wal(self) -> None:
        self._connection().execute("PRAGMA wal_checkpoint(PASSIVE)")

    def _checkpointed(self, done: asyncio.Future[None]) -> None:
        self._checkpointing = None
        if not done.cancelled() and done.exception() is not None:
            log.warning("audit WAL checkpoint failed: %s", done.exception())

    def _append(self, batch: tuple[Any, ...]) -> None:
        """``append``'s arguments, written in the pool's thread on its own connection."""
        _write(self._connection(), *batch)

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None


def _connect(path: str, pragmas: tuple[str, ...], timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=True)
    for pragma in pragmas:
        conn.execute(f"PRAGMA {pragma}")
    return conn


def _is_busy(exc: sqlite3.OperationalError) -> bool:
    """Another connection holds the database (not an error: the thread will wait for it)."""
    return "locked" in str(exc) or "busy" in str(exc)


def _write(
    conn: sqlite3.Connection,
    chain_id: str,
    rows: Sequence[tuple[Any, ...]],
    content: Sequence[tuple[Any, ...]],
    checkpoint: tuple[Any, ...] | None,
    now_us: int | None,
) -> None:
    """One transaction; rolled back (and the error raised) if any statement fails."""
    inserts = _SQL.record_inserts(rows)
    if len(inserts) == 1 and not content and checkpoint is None and now_us is None:
        # One statement (most strict-mode commits): atomic by itself, no BEGIN and COMMIT.
        conn.execute(*inserts[0])
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for sql, params in inserts:
            conn.execute(sql, params)
        if content:
            conn.executemany(_SQL.content, content)
        if checkpoint is not None:
            conn.execute(_SQL.checkpoint, checkpoint)
        if now_us is not None:
            conn.execute(_SQL.heartbeat, (now_us, chain_id))
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # the first error is the one to report
                conn.execute("ROLLBACK")
        raise
