"""Which chains a starting writer may adopt: only those whose writer is gone."""

from __future__ import annotations

import os
import subprocess
import sys

from tollhouse.audit.lifecycle import ORPHAN_AFTER_S, WriterIdentity, genesis_event, is_dead
from tollhouse.audit.store import ChainInfo

ME = WriterIdentity("replica-a", "host-1", os.getpid(), 10_000_000_000)


def _chain(host: str, pid: int, heartbeat_us: int) -> ChainInfo:
    return ChainInfo("c", "replica-a", host, pid, 0, heartbeat_us)


def test_same_host_uses_the_process_table() -> None:
    finished = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    gone = int(finished.stdout)
    now = ME.started_us
    assert is_dead(_chain("host-1", gone, now), ME, now)
    assert not is_dead(_chain("host-1", os.getppid(), now), ME, now)  # a live sibling worker
    assert is_dead(_chain("host-1", os.getpid(), now), ME, now)  # our pid: an earlier incarnation


def test_other_hosts_use_the_heartbeat() -> None:
    now = ME.started_us
    assert not is_dead(_chain("host-2", 1, now - 5_000_000), ME, now)
    assert is_dead(_chain("host-2", 1, now - (ORPHAN_AFTER_S + 1) * 1_000_000), ME, now)


def test_genesis_names_the_chains_it_continues() -> None:
    record = genesis_event(ME, [{"chain": "replica-a-7-1", "seq": 41, "hash": "ab" * 32}]).to_record()
    assert record["type"] == "chain.start" and record["time"].startswith("1970-01-01T02:46:40")
    assert record["detail"]["predecessors"] == [f"replica-a-7-1@41:{'ab' * 32}"]
    assert ME.chain_id == f"replica-a-{os.getpid()}-10000000000"
