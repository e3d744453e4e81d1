"""The audit operations the CLI and the admin API share: verify, search, session, public key.

``AuditService`` holds what reading needs (an engine, the trusted public keys, the content
vault); it never writes chains. Role checks belong to the caller: the admin API decides
whether a caller may ``verify`` (security-auditor) or see content (``reveal_content``).
"""

from __future__ import annotations

import base64
from pathlib import Path
from typing import Any

import orjson
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.audit.checkpoint import checkpoint_from_json
from tollhouse.audit.reader import AuditReader
from tollhouse.audit.search import SearchFilters, search
from tollhouse.audit.signing import SignatureChecker, key_id, public_raw
from tollhouse.audit.store import CheckpointRow
from tollhouse.audit.timeline import Timeline, session_timeline
from tollhouse.audit.vault import ContentVault
from tollhouse.audit.verify import (
    ChainResult,
    ChainVerifier,
    Problem,
    VerifyReport,
    check_links,
    merge_witness,
    unregistered,
)


def read_witness(path: str | Path) -> list[CheckpointRow]:
    """Checkpoints from a witness file (JSON lines); unreadable lines are skipped."""
    rows = []
    for line in Path(path).read_bytes().splitlines():
        try:
            rows.append(checkpoint_from_json(orjson.loads(line)))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            continue
    return rows


class AuditService:
    """Read-side audit operations over one database."""

    def __init__(
        self,
        engine: AsyncEngine,
        public_keys: list[Ed25519PublicKey] | None = None,
        vault: ContentVault | None = None,
    ) -> None:
        self.engine = engine
        self.reader = AuditReader(engine)
        self.public_keys = public_keys or []
        self.vault = vault

    async def verify(
        self,
        chain_id: str | None = None,
        since_us: int | None = None,
        witness: list[CheckpointRow] | None = None,
    ) -> VerifyReport:
        """Recompute every chain (or one) and check checkpoints; names the first bad record of each.

        With ``since_us`` a chain is verified from its last valid checkpoint at or before that
        time (its signature is what anchors the rest), else from its genesis record.
        """
        checker = SignatureChecker(self.public_keys) if self.public_keys else None
        chains = await self.reader.chains(chain_id)
        copies = [w for w in witness or [] if chain_id is None or w.chain_id == chain_id]
        checkpoints, problems = merge_witness(await self.reader.checkpoints(chain_id), copies)
        registered = {chain.chain_id for chain in chains}
        problems += unregistered(registered, await self.reader.record_chains(chain_id), checkpoints)
        if chain_id is not None and not chains and not problems:  # a mistyped id must not pass
            problems.append(Problem(chain_id, 0, "missing", "the database holds no such chain"))
        results: dict[str, ChainResult] = {}
        for chain in chains:
            held = checkpoints.get(chain.chain_id, [])
            start = self._anchor(held, since_us, checker)
            verifier = ChainVerifier(chain.chain_id, held, checker, chain)
            results[chain.chain_id] = await verifier.run(
                self.reader.records(chain.chain_id, start.seq if start else -1), start
            )
        notes = [] if chain_id else check_links(results, {c.chain_id: c.successor for c in chains})
        if checker is None:
            notes.append("no public key given: checkpoint signatures were not checked")
        problems += [r.problem for r in results.values() if r.problem is not None]
        problems.sort(key=lambda p: (p.chain_id, p.seq))
        return VerifyReport(list(results.values()), problems, notes)

    @staticmethod
    def _anchor(
        checkpoints: list[CheckpointRow], since_us: int | None, checker: SignatureChecker | None
    ) -> CheckpointRow | None:
        if since_us is None or checker is None:
            return None
        valid = [c for c in checkpoints if c.time_us <= since_us and checker.problem(c) is None]
        return max(valid, key=lambda c: c.seq, default=None)

    async def search(self, filters: SearchFilters) -> list[dict[str, Any]]:
        return await search(self.engine, filters)

    async def session_timeline(self, session_id: str, reveal_content: bool = False) -> Timeline:
        """One agent session as a tree of calls; content decrypted only if ``reveal_content``."""
        return await session_timeline(
            self.engine, self.reader, session_id, self.vault if reveal_content else None
        )

    def public_key(self) -> dict[str, Any]:
        """The checkpoint verification keys, for publishing (admin endpoint, auditors)."""
        return {
            "algorithm": "Ed25519",
            "keys": [
                {"key_id": key_id(k), "public_key": base64.b64encode(public_raw(k)).decode()}
                for k in self.public_keys
            ],
        }
