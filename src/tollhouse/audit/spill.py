"""Spilling records to a local file when the writer cannot keep up (backpressure: spill).

Only the records go to the file, never content: a spilled record keeps its content digests
and its content references are marked ``stored: spilled``. The file is written from a
thread, not the event loop, and read back into the queue when the writer has room again
(or by the next process, if this one dies first).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from tollhouse.audit.queue import AuditQueue, Entry, Item

log = logging.getLogger("tollhouse.audit")
_CHECK_S = 2.0


def _records(item: Item) -> list[dict[str, Any]]:
    entries = [item] if isinstance(item, Entry) else list(item())
    records = []
    for entry in entries:
        record = dict(entry.record)
        if "content" in record:
            record["content"] = [
                {**ref, "stored": "spilled"} if ref.get("stored") != "digest" else ref
                for ref in record["content"]
            ]
        records.append(record)
    return records


class SpillFile:
    """The queue's overflow: buffers lines, appends them from a thread, replays them later."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)
        self._lines: list[bytes] = []
        self._wake = asyncio.Event()
        self.replayed = 0

    def __call__(self, items: Sequence[Item]) -> None:
        for item in items:
            try:
                self._lines.extend(orjson.dumps(r) + b"\n" for r in _records(item))
            except Exception:
                log.exception("an audit record could not be spilled")
        self._wake.set()

    async def run(self, queue: AuditQueue) -> None:
        """Write buffered lines; when the queue has room, feed the file back into it."""
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), _CHECK_S)
            self._wake.clear()
            await self.flush()
            if len(queue) < queue.capacity // 4:
                queue.requeue(await self.replay())

    async def flush(self) -> None:
        lines, self._lines = self._lines, []
        if lines:
            await asyncio.to_thread(self._append, lines)

    def _append(self, lines: list[bytes]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as out:
            out.writelines(lines)
            out.flush()
            os.fsync(out.fileno())

    async def replay(self) -> list[Entry]:
        """Take the file's records (and remove the file) as entries to queue."""
        entries = await asyncio.to_thread(self._take)
        self.replayed += len(entries)
        return entries

    def _take(self) -> list[Entry]:
        if not self.path.exists():
            return []
        taking = self.path.with_suffix(self.path.suffix + ".replay")
        os.replace(self.path, taking)
        entries = []
        for line in taking.read_bytes().splitlines():
            try:
                entries.append(Entry(orjson.loads(line)))
            except orjson.JSONDecodeError:  # a torn last line after a crash
                log.warning("skipping an unreadable line in the audit spill file")
        taking.unlink()
        return entries
