"""Exporting chains after the fact: JSON lines, or GenAI spans to an OTLP/HTTP endpoint."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TextIO

import aiohttp
import orjson

from tollhouse.audit.chain import SealedRecord
from tollhouse.audit.reader import record_of
from tollhouse.audit.service import AuditService
from tollhouse.audit.sinks.otlp import export_request

_BATCH = 500


async def sealed_records(
    service: AuditService, chain_id: str | None, since_us: int | None, until_us: int | None
) -> AsyncIterator[SealedRecord]:
    """Every stored record (as the database holds it) in chain order, within the time range."""
    for chain in await service.reader.chains(chain_id):
        async for row in service.reader.records(chain.chain_id):
            time_us = int(row.columns["time_us"] or 0)  # type: ignore[call-overload]
            if (since_us is not None and time_us < since_us) or (
                until_us is not None and time_us >= until_us
            ):
                continue
            yield SealedRecord(
                row.chain_id, row.seq, row.hash, row.body, record_of(row.chain_id, row.seq, row.body)
            )


async def export_jsonl(
    service: AuditService, target: TextIO, chain_id: str | None, since_us: int | None, until_us: int | None
) -> int:
    """Write one JSON object per record (its hashed body plus ``hash``); returns the count."""
    count = 0
    async for sealed in sealed_records(service, chain_id, since_us, until_us):
        target.write(orjson.dumps(sealed.record | {"hash": sealed.hash}).decode() + "\n")
        count += 1
    return count


async def export_otlp(
    service: AuditService, endpoint: str, chain_id: str | None, since_us: int | None, until_us: int | None
) -> int:
    """POST the LLM calls as GenAI spans to an OTLP/HTTP traces endpoint; returns records sent."""
    count = 0
    batch: list[SealedRecord] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:

        async def send() -> None:
            body = export_request(batch, "tollhouse-export").SerializeToString()
            async with session.post(
                endpoint, data=body, headers={"content-type": "application/x-protobuf"}
            ) as resp:
                if resp.status >= 300:
                    raise RuntimeError(f"{endpoint} answered {resp.status}")

        async for sealed in sealed_records(service, chain_id, since_us, until_us):
            batch.append(sealed)
            if len(batch) >= _BATCH:
                await send()
                count, batch = count + len(batch), []
        if batch:
            await send()
            count += len(batch)
    return count
