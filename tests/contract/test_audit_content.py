"""Encrypted content per organisation, crypto-shredding and retention, over every backend."""

from __future__ import annotations

import asyncio
import hashlib

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.audit_chain import MASTER_KEY, make_writer, sample_event, service
from tollhouse.audit.events import ContentRef
from tollhouse.audit.queue import ContentPiece, Entry
from tollhouse.audit.reader import AuditReader
from tollhouse.audit.retention import shred_expired
from tollhouse.audit.search import SearchFilters
from tollhouse.audit.vault import ContentUnavailable, ContentVault


def _entry(n: int, org: str, prompt: bytes) -> Entry:
    event = sample_event(n, session=f"sess-{org}")
    digest = hashlib.sha256(prompt).hexdigest()
    record = event.to_record() | {"content": [ContentRef("request", digest, len(prompt), "full").to_json()]}
    return Entry(record, (ContentPiece(event.id, "request", org, digest, prompt),))


async def _write(engine: AsyncEngine) -> None:
    writer = make_writer(engine, vault=True)
    await writer.start()
    for n, org in enumerate(("org-a", "org-b", "org-a", "org-b")):
        await writer.durable(_entry(n, org, f"secret plan {n} of {org}".encode()), 5.0)
    await writer.stop()


async def test_content_is_encrypted_at_rest_and_readable_with_the_key(engine: AsyncEngine) -> None:
    await _write(engine)
    async with engine.connect() as conn:
        blobs = [bytes(r[0]) for r in await conn.execute(text("SELECT ciphertext FROM audit_content"))]
        wrapped = [bytes(r[0]) for r in await conn.execute(text("SELECT wrapped FROM audit_data_keys"))]
    assert len(blobs) == 4 and len(wrapped) == 2  # one data key per organisation
    assert not any(b"secret plan" in blob for blob in blobs + wrapped)
    timeline = await service(engine).session_timeline("sess-org-a", reveal_content=True)
    assert sorted(node.content["request"] for node in timeline.roots) == [
        "secret plan 0 of org-a",
        "secret plan 2 of org-a",
    ]
    hidden = await service(engine).session_timeline("sess-org-a", reveal_content=False)
    assert all(node.content["request"] == "[not revealed]" for node in hidden.roots)


async def test_shredding_a_tenant_key_makes_its_content_unreadable_and_chains_still_verify(
    engine: AsyncEngine,
) -> None:
    await _write(engine)
    vault = ContentVault(engine, MASTER_KEY)
    assert await vault.shred("org-a") == 1
    found = await service(engine).search(SearchFilters(limit=100))
    rows = await AuditReader(engine).content([r["id"] for r in found])
    assert len(rows) == 4
    for row in rows:
        if row.org_id == "org-a":
            with pytest.raises(ContentUnavailable):
                await vault.open(row)
        else:
            assert (await vault.open(row)).startswith(b"secret plan")
    async with engine.connect() as conn:
        assert (
            await conn.execute(text("SELECT count(*) FROM audit_content"))
        ).scalar() == 4  # still there, unreadable
    assert (await service(engine).verify()).ok
    timeline = await service(engine).session_timeline("sess-org-a", reveal_content=True)
    assert all("shredded" in node.content["request"] for node in timeline.roots)
    # New content for the organisation gets a new key; the old stays unreadable.
    await _write(engine)
    async with engine.connect() as conn:
        versions = sorted(
            r[0]
            for r in await conn.execute(text("SELECT version FROM audit_data_keys WHERE org_id = 'org-a'"))
        )
    assert versions == [1, 2]


async def test_retention_deletes_old_content_and_keeps_records(engine: AsyncEngine) -> None:
    await _write(engine)
    assert await shred_expired(engine, days=30) == 0
    later = 31 * 86_400 * 1_000_000
    async with engine.connect() as conn:
        newest = (await conn.execute(text("SELECT max(created_us) FROM audit_content"))).scalar()
    assert await shred_expired(engine, days=30, now_us=newest + later) == 4
    assert (await service(engine).verify()).ok


async def test_two_writers_creating_the_first_key_of_an_organisation_agree(engine: AsyncEngine) -> None:
    first, second = ContentVault(engine, MASTER_KEY), ContentVault(engine, MASTER_KEY)
    pieces = [ContentPiece(f"e{n}", "request", "org-new", "00" * 32, b"hello") for n in range(2)]
    rows_a, rows_b = await asyncio.gather(first.seal(pieces[:1], 1), second.seal(pieces[1:], 1))
    assert rows_a[0].key_version == rows_b[0].key_version == 1
    assert await first.open(rows_b[0]) == await second.open(rows_a[0]) == b"hello"
