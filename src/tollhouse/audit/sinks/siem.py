"""The SIEM webhook: batches of records as a JSON array, each with its chain position and hash."""

from __future__ import annotations

import orjson

from tollhouse.audit.chain import SealedRecord
from tollhouse.audit.sinks.batching import BatchingSink


class SiemSink(BatchingSink):
    name = "siem"

    def encode(self, batch: list[SealedRecord]) -> tuple[bytes, str]:
        return orjson.dumps([r.record | {"hash": r.hash} for r in batch]), "application/json"
