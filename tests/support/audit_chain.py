"""Building a real chain writer over a test database, for the audit tests."""

from __future__ import annotations

import os

from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.audit.checkpoint import Checkpointer, FileWitness, Witness
from tollhouse.audit.events import AuditEvent, EventType, PrincipalRef, Usage
from tollhouse.audit.lifecycle import WriterIdentity
from tollhouse.audit.queue import AuditQueue
from tollhouse.audit.service import AuditService
from tollhouse.audit.signing import Signer, load_private_key, new_private_key_pem
from tollhouse.audit.store import ChainStore
from tollhouse.audit.vault import ContentVault
from tollhouse.audit.writer import ChainWriter

SIGNING_KEY = new_private_key_pem()
MASTER_KEY = os.urandom(32)


def signer() -> Signer:
    return Signer(load_private_key(SIGNING_KEY))


def make_writer(
    engine: AsyncEngine,
    *,
    replica: str = "test-replica",
    every: int = 1000,
    witness_file: str | None = None,
    vault: bool = False,
    queue_size: int = 10_000,
    batch_max: int = 500,
    flush_s: float = 0.05,
) -> ChainWriter:
    """A writer with checkpoints signed by ``SIGNING_KEY`` (and content sealed under ``MASTER_KEY``)."""
    witnesses: list[Witness] = [FileWitness(witness_file)] if witness_file else []
    checkpointer = Checkpointer(signer(), every, 3600.0, witnesses)
    return ChainWriter(
        ChainStore(engine),
        AuditQueue(queue_size, "block", 5.0, batch_max=batch_max),
        WriterIdentity.current(replica),
        batch_max=batch_max,
        flush_interval_s=flush_s,
        vault=ContentVault(engine, MASTER_KEY) if vault else None,
        checkpointer=checkpointer,
    )


def service(engine: AsyncEngine) -> AuditService:
    return AuditService(engine, [signer().public_key], ContentVault(engine, MASTER_KEY))


def sample_event(n: int, session: str = "sess-1") -> AuditEvent:
    return AuditEvent(
        EventType.LLM_RESPONSE if n % 2 else EventType.LLM_REQUEST,
        request_id=f"req_{n // 2}",
        principal=PrincipalRef(
            "agent", "planner", "org-a", "team-1", "key-1", ("user:alice", "agent:planner")
        ),
        session_id=session,
        trace_id="4bf92f3577b34da6a3ce929d0e0e4736",
        span_id=f"{n // 2:016x}",
        surface="chat",
        route="gpt-test",
        provider="fake",
        status=200 if n % 2 else None,
        usage=Usage(10, n) if n % 2 else None,
        cost_micro_usd=n * 3 if n % 2 else None,
    )
