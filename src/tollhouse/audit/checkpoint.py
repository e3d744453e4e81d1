"""When to sign a checkpoint, and handing signed checkpoints to witnesses outside the database.

A witness keeps a copy the database's owner cannot quietly rewrite: a file (JSON lines,
e.g. on another volume or shipped elsewhere) or a webhook. If the tail of a chain, or a
checkpoint, is later deleted from the database, ``tollhouse audit verify --witness FILE``
notices.
"""

from __future__ import annotations

import asyncio
import logging
import time
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import orjson

from tollhouse.audit.chain import ChainHead
from tollhouse.audit.events import format_time
from tollhouse.audit.signing import Signer
from tollhouse.audit.store import CheckpointRow

log = logging.getLogger("tollhouse.audit")


def checkpoint_json(row: CheckpointRow) -> dict[str, Any]:
    """A checkpoint as witnesses and the admin API show it."""
    return {
        "chain": row.chain_id,
        "seq": row.seq,
        "hash": row.hash,
        "time": format_time(row.time_us),
        "time_us": row.time_us,
        "key_id": row.key_id,
        "signature": row.signature,
    }


def checkpoint_from_json(data: dict[str, Any]) -> CheckpointRow:
    return CheckpointRow(
        str(data["chain"]),
        int(data["seq"]),
        str(data["hash"]),
        int(data["time_us"]),
        str(data["key_id"]),
        str(data["signature"]),
    )


class Witness(Protocol):
    async def push(self, row: CheckpointRow) -> None: ...


class FileWitness:
    """Appends each checkpoint as one JSON line (written in a thread: never on the event loop)."""

    def __init__(self, path: str) -> None:
        self.path = Path(path)

    async def push(self, row: CheckpointRow) -> None:
        line = orjson.dumps(checkpoint_json(row)) + b"\n"
        await asyncio.to_thread(self._append, line)

    def _append(self, line: bytes) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("ab") as out:
            out.write(line)
            out.flush()


class WebhookWitness:
    """POSTs each checkpoint as JSON."""

    def __init__(self, url: str, timeout_s: float = 10.0) -> None:
        self.url = url
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def push(self, row: CheckpointRow) -> None:
        async with (
            aiohttp.ClientSession(timeout=self._timeout) as session,
            session.post(self.url, json=checkpoint_json(row)) as resp,
        ):
            if resp.status >= 300:
                raise RuntimeError(f"witness {self.url} answered {resp.status}")


class Checkpointer:
    """Signs a checkpoint every ``every`` records or ``interval_s`` seconds, and notifies witnesses."""

    def __init__(self, signer: Signer, every: int, interval_s: float, witnesses: list[Witness]) -> None:
        self.signer = signer
        self._every = every
        self._interval = interval_s
        self._witnesses = witnesses
        self._last_seq = -1
        self._last_at = time.monotonic()
        self._pushes: set[asyncio.Task[None]] = set()

    def due(self, head: ChainHead, force: bool = False) -> bool:
        if head.seq <= self._last_seq:
            return False
        if force or head.seq - self._last_seq >= self._every:
            return True
        return time.monotonic() - self._last_at >= self._interval

    def make(self, chain_id: str, head: ChainHead, now_us: int) -> CheckpointRow:
        return self.signer.sign(chain_id, head.seq, head.hash.hex(), now_us)

    def committed(self, row: CheckpointRow) -> None:
        """Called once ``row`` is durable: remember it and push it to every witness."""
        self._last_seq, self._last_at = row.seq, time.monotonic()
        for witness in self._witnesses:
            task = asyncio.create_task(self._push(witness, row))
            self._pushes.add(task)
            task.add_done_callback(self._pushes.discard)

    async def _push(self, witness: Witness, row: CheckpointRow) -> None:
        try:
            await witness.push(row)
        except Exception as exc:  # the checkpoint is in the database; the witness copy is extra
            log.warning(
                "audit witness %s failed for checkpoint %s/%s: %s",
                type(witness).__name__,
                row.chain_id,
                row.seq,
                exc,
            )

    async def drain(self) -> None:
        """Wait for pending witness pushes (on shutdown)."""
        if self._pushes:
            await asyncio.gather(*self._pushes, return_exceptions=True)
