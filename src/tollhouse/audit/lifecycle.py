"""Opening a chain for this process: its id, and the genesis record linking earlier chains.

Every writer (process) starts a new chain. When it starts it looks for chains of the same
replica that ended without a ``chain.close`` record and whose writer is gone (a crash or a
SIGKILL): it claims them, atomically so two new workers never claim the same one, and its
genesis record names each one's last durable record (seq and hash). A verifier then knows
where each crashed chain legitimately ends, so a later deletion of its tail is visible.
"""

from __future__ import annotations

import os
import socket
import time
from dataclasses import dataclass

from tollhouse.audit.events import AuditEvent, EventType
from tollhouse.audit.store import ChainInfo, ChainStore

ORPHAN_AFTER_S = 120  # a chain on another host is taken as dead when its heartbeat is this old


@dataclass(frozen=True, slots=True)
class WriterIdentity:
    """Who writes a chain: the replica (a stable name), this host and this process."""

    replica_id: str
    host: str
    pid: int
    started_us: int

    @classmethod
    def current(cls, replica_id: str | None = None) -> WriterIdentity:
        host = socket.gethostname()
        return cls(replica_id or host, host, os.getpid(), time.time_ns() // 1000)

    @property
    def chain_id(self) -> str:
        return f"{self.replica_id[:80]}-{self.pid}-{self.started_us}"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # exists, owned by someone else
        return True
    return True


def is_dead(chain: ChainInfo, me: WriterIdentity, now_us: int) -> bool:
    """Whether the writer of ``chain`` is gone (so the chain is an orphan to adopt)."""
    if chain.host == me.host:
        # Our own pid on our host can only be an earlier incarnation (a restarted container).
        return chain.pid == me.pid or not _pid_alive(chain.pid)
    return now_us - chain.heartbeat_us > ORPHAN_AFTER_S * 1_000_000


async def adopt_orphans(store: ChainStore, me: WriterIdentity) -> list[dict[str, str | int]]:
    """Claim the dead chains of this replica; describe where each ends, for the genesis record."""
    links: list[dict[str, str | int]] = []
    now_us = time.time_ns() // 1000
    for chain in await store.orphans(me.replica_id, exclude=me.chain_id):
        if not is_dead(chain, me, now_us) or not await store.claim(chain.chain_id, me.chain_id):
            continue
        head = await store.head(chain.chain_id)
        links.append({"chain": chain.chain_id, "seq": head.seq, "hash": head.hash.hex()})
    return links


def genesis_event(me: WriterIdentity, links: list[dict[str, str | int]]) -> AuditEvent:
    """The first record of a chain: who writes it, and the crashed chains it continues."""
    return AuditEvent(
        EventType.CHAIN_START,
        time_us=me.started_us,
        detail={
            "replica": me.replica_id,
            "host": me.host,
            "pid": me.pid,
            "predecessors": [f"{link['chain']}@{link['seq']}:{link['hash']}" for link in links],
        },
    )


def new_chain_info(me: WriterIdentity, links: list[dict[str, str | int]]) -> ChainInfo:
    return ChainInfo(
        chain_id=me.chain_id,
        replica_id=me.replica_id,
        host=me.host,
        pid=me.pid,
        started_us=me.started_us,
        heartbeat_us=me.started_us,
        predecessor=str(links[0]["chain"]) if links else None,
    )
