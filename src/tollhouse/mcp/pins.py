"""Pinning definitions against tool poisoning and rug pulls, without the database on the call path.

Each definition an upstream lists is hashed (SHA-256 of its canonical JSON). A hash an
operator approved is usable; a new definition that scans clean is approved on first use
(when ``trust_on_first_use``); anything else — a poisoned definition, or an approved one
that changed — is pending: hidden from lists and refused (``mode: block``) or served and
recorded (``mode: flag``) until approved with ``tollhouse mcp approve``.

Decisions read an in-memory copy of the approved hashes. A background task writes what
the gateway saw (with scan findings and, for a change, the diff) and reloads approvals
every ``refresh_s``, so an approval given on any replica takes effect everywhere.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import Callable, Iterable

import orjson

from tollhouse.audit.events import AuditEvent, DetailValue, EventType
from tollhouse.audit.trail import AuditTrail
from tollhouse.background import stop_task
from tollhouse.mcp.catalog import Definition
from tollhouse.mcp.config import PinningConfig
from tollhouse.mcp.pin_store import Observation, PinKey, PinStore
from tollhouse.mcp.scan import DefinitionScanner
from tollhouse.storage.engine import create_engine
from tollhouse.storage.migrate import upgrade

log = logging.getLogger("tollhouse.mcp")
_FINDINGS_LIMIT = 10_000


def definition_hash(item: Definition) -> str:
    """SHA-256 of a definition's canonical JSON (sorted keys, without ``_meta``)."""
    body = {k: v for k, v in item.body.items() if k != "_meta"}
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


class PinGate:
    """The approved hashes in memory, and what the gateway saw waiting to be written."""

    def __init__(
        self,
        config: PinningConfig,
        db_url: str,
        migrate: bool,
        trail: AuditTrail | None,
        neighbours: Callable[[str], frozenset[str]],
    ) -> None:
        self._config = config
        self._db_url = db_url
        self._migrate = migrate
        self._trail = trail
        self._neighbours = neighbours  # server → distinctive tool names of the servers beside it
        self._scanner = DefinitionScanner()
        self._approved: dict[PinKey, str] = {}
        # The body last hashed per key (held, so `is` cannot match a recycled object) and its hash.
        self._seen: dict[PinKey, tuple[dict[str, object], str]] = {}
        self._findings: dict[str, tuple[dict[str, object], ...]] = {}  # hash → findings
        self._queue: dict[tuple[str, str, str, str], Observation] = {}  # unwritten, one per hash
        self._store: PinStore | None = None
        self._task: asyncio.Task[None] | None = None
        self._loaded = asyncio.Event()

    # ---------------------------------------------------------------- the call path

    def current_hash(self, item: Definition) -> str:
        key = (item.server, item.kind, item.key)
        cached = self._seen.get(key)
        if cached is not None and cached[0] is item.body:
            return cached[1]
        digest = definition_hash(item)
        self._seen[key] = (item.body, digest)
        return digest

    def status(self, item: Definition) -> str:
        approved = self._approved.get((item.server, item.kind, item.key))
        digest = self.current_hash(item)
        if approved == digest:
            return "approved"
        return "changed" if approved is not None else "unapproved"

    def usable(self, item: Definition) -> bool:
        if self._config.mode != "block":
            return True
        return self._approved.get((item.server, item.kind, item.key)) == self.current_hash(item)

    def observe(self, items: Iterable[Definition]) -> None:
        """Definitions just listed by an upstream: note the unapproved ones (scanning them)."""
        for item in items:
            key = (item.server, item.kind, item.key)
            digest = self.current_hash(item)
            approved = self._approved.get(key)
            if approved == digest:
                continue
            findings = self._findings.get(digest)
            if findings is None:
                if len(self._findings) >= _FINDINGS_LIMIT:
                    self._findings.clear()
                found = self._scanner.scan(item, self._neighbours(item.server))
                findings = self._findings[digest] = tuple(f.to_json() for f in found)
                if found:
                    log.warning("MCP %s %s/%s flagged: %s", item.kind, item.server, item.key,
                                ", ".join(sorted({f.kind for f in found})))  # fmt: skip
            trust = self._config.trust_on_first_use and approved is None and not findings
            if trust:
                self._approved[key] = digest  # clean and new: usable at once
            self._queue[(*key, digest)] = Observation(*key, digest, item.body, findings, trust)

    def findings(self, item: Definition) -> tuple[dict[str, object], ...]:
        return self._findings.get(self.current_hash(item), ())

    # ---------------------------------------------------------------- background

    async def start(self) -> None:
        engine = create_engine(self._db_url, pool_size=2)
        if self._migrate:
            await upgrade(engine)
        self._store = PinStore(engine)
        await self._sync()
        self._task = asyncio.create_task(self._run(), name="mcp-pins")

    async def stop(self) -> None:
        await stop_task(self._task)
        if self._store is not None:
            with contextlib.suppress(Exception):
                await self._sync()
            await self._store.engine.dispose()

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._config.refresh_s)
            try:
                await self._sync()
            except Exception:
                log.exception("MCP pins: could not sync with the database")

    async def _sync(self) -> None:
        assert self._store is not None
        queued, self._queue = self._queue, {}
        try:
            changed = await self._store.record(list(queued.values())) if queued else []
        except Exception:
            self._queue = {**queued, **self._queue}  # write them next time
            raise
        for observation, diff in changed:
            self._record_change(observation, diff)
        approved = await self._store.approved()
        for o in self._queue.values():  # seen meanwhile and trusted: keep them usable until written
            if o.trust:
                approved.setdefault((o.server, o.kind, o.key), o.sha256)
        self._approved = approved

    def _record_change(self, o: Observation, diff: dict[str, object]) -> None:
        log.warning("MCP %s %s/%s changed after approval (%s)", o.kind, o.server, o.key, ", ".join(diff))
        if self._trail is None:
            return
        detail: dict[str, DetailValue] = {
            "method": "definition/changed",
            "server": o.server,
            "kind": o.kind,
            "tool": o.key,
            "sha256": o.sha256,
            "changed_fields": sorted(diff),
            "findings": [str(f.get("kind")) for f in o.findings],
            "blocked": self._config.mode == "block",
        }
        self._trail.emit(AuditEvent(EventType.MCP_CALL, surface="mcp", provider=o.server, detail=detail))
