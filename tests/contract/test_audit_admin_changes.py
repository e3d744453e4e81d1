"""Admin changes recorded through the admin plane's event sink land in the chain and verify."""

from __future__ import annotations

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.audit_chain import make_writer, service
from tollhouse.admin.events import event
from tollhouse.audit.admin_changes import AdminChangeRecorder
from tollhouse.audit.capture import ContentPolicy
from tollhouse.audit.queue import AuditQueue
from tollhouse.audit.reader import AuditReader
from tollhouse.audit.settings import AuditConfig
from tollhouse.audit.trail import AuditTrail
from tollhouse.audit.writer import ChainWriter


class _Started:
    """Hands the trail a writer this test already built over the contract database."""

    def __init__(self, writer: ChainWriter) -> None:
        self.writer = writer

    async def open(self, queue: AuditQueue) -> ChainWriter:
        await self.writer.start()
        return self.writer

    async def close(self) -> None:
        return None


async def test_admin_changes_are_chained(engine: AsyncEngine) -> None:
    writer = make_writer(engine)
    trail = AuditTrail(AuditConfig(enabled=True), ContentPolicy("digest"), writer.queue, _Started(writer))
    await trail.start()
    recorder = AdminChangeRecorder(trail)
    recorder.emit(
        event(
            "key.revoke",
            "user:alice",
            "key",
            "key_42",
            {"id": "key_42", "revoked": False, "created_at": 1795776000.25},
            {"id": "key_42", "revoked": True, "created_at": 1795776000.25},
            request_id="req_admin_1",
        )
    )
    await trail.stop()
    bodies = [orjson.loads(r.body) async for r in AuditReader(engine).records(writer.chain_id)]
    (change,) = [b for b in bodies if b["type"] == "admin.change"]
    assert change["principal"] == {"kind": "user", "id": "alice"} and change["request_id"] == "req_admin_1"
    assert change["detail"]["action"] == "key.revoke" and change["detail"]["after"]["revoked"] is True
    assert change["detail"]["before"]["created_at"] == "1795776000.25"  # floats are kept as text
    assert (await service(engine).verify()).ok
