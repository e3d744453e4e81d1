"""Tool calls a model emitted that a ``require_approval`` guard holds (the LLM surfaces).

The gateway cannot keep an HTTP answer open for a human, so a held call is withheld: the
caller gets ``approval_required`` with an approval id, and retries the same request once an
approver decided. A retry is recognised by the call's **digest** — SHA-256 over the caller
(principal), the conversation as the caller sent it (system prompt, messages or input),
the tool's name and its arguments (JSON with sorted keys, after guard redaction). A
decision applies to every call with that digest for ``valid_s``: an approved call passes,
a denied one — or one nobody decided within ``timeout_s`` — fails with
``approval_denied``; after that a retry asks again.

Decisions are read from the database for answers in one piece (the policy can wait for a
read), and from a copy in memory for streams, whose checks cannot wait: a watcher task
reads the rows created or decided since its last read every ``poll_s``. Requests touch the
database only when a guard held one of their tool calls for a human.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.approvals import store
from tollhouse.background import stop_task
from tollhouse.guards.config import ApprovalsConfig
from tollhouse.pipeline.context import RequestContext
from tollhouse.storage.engine import create_engine
from tollhouse.storage.migrate import upgrade

log = logging.getLogger("tollhouse.approvals")
_PREVIEW = 4000  # characters of the arguments an approver sees
_SKEW_S = 5.0  # re-read this much before the last read: replicas' clocks and slow commits
_CONVERSATION_KEYS = ("system", "instructions", "messages", "input")
_RANK = {"approved": 3, "pending": 2, "denied": 1, "expired": 1}


@dataclass(frozen=True, slots=True)
class Ruling:
    """Where a held call stands: approved, pending, denied or expired; its approval id."""

    status: str
    approval_id: str
    decided_by: str | None = None


@dataclass(slots=True)
class _Entry:
    status: str
    expires_at: float
    decided_at: float | None
    decided_by: str | None

    def ruling(self, approval_id: str, now: float, valid_s: float) -> Ruling | None:
        """What this row says now, or None once it no longer applies."""
        status = self.status
        if status == "pending" and now >= self.expires_at:
            status = "expired"
        if status == "pending":
            return Ruling(status, approval_id)
        since = self.expires_at if status == "expired" else (self.decided_at or self.expires_at)
        return Ruling(status, approval_id, self.decided_by) if now < since + valid_s else None


def conversation_digest(payload: dict[str, Any]) -> str:
    """The conversation as the caller sent it (before any guard changed it)."""
    parts = {k: payload[k] for k in _CONVERSATION_KEYS if k in payload}
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()


def canonical_arguments(arguments: Any) -> str:
    """Arguments as one string: JSON with sorted keys when they parse, else as they are."""
    value = arguments
    if isinstance(arguments, str):
        try:
            value = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            return arguments
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()


def principal_of(ctx: RequestContext) -> str:
    p = ctx.principal
    return f"{p.kind}:{p.id}" if p is not None else "anonymous"


def call_digest(ctx: RequestContext, conversation: str, tool: str, arguments: str) -> str:
    """The identity of one tool call in one conversation for one caller (module docstring)."""
    key = orjson.dumps([principal_of(ctx), conversation, tool, arguments])
    return hashlib.sha256(key).hexdigest()


class ToolCallApprovals:
    """The LLM surfaces' side of the approvals table (see the module docstring)."""

    def __init__(self, config: ApprovalsConfig, db_url: str, migrate: bool) -> None:
        self.config = config
        self._db_url = db_url
        self._migrate = migrate
        self._engine: AsyncEngine | None = None
        self._mirror: dict[str, dict[str, _Entry]] = {}  # digest → approval id → row
        self._read_at = 0.0
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ rulings

    def ruling(self, digest: str, now: float | None = None) -> Ruling | None:
        """The strongest decision that applies to ``digest`` (approved > pending > denied)."""
        now = time.time() if now is None else now
        best: Ruling | None = None
        for approval_id, entry in self._mirror.get(digest, {}).items():
            found = entry.ruling(approval_id, now, self.config.valid_s)
            if found is not None and (best is None or _RANK[found.status] > _RANK[best.status]):
                best = found
        return best

    def hold(
        self, ctx: RequestContext, digest: str, tool: str, arguments: str, reason: str
    ) -> tuple[Ruling, dict[str, Any]]:
        """A new pending approval for the call (in memory at once); its row, to ``write``."""
        now = time.time()
        approval_id = "apr_" + os.urandom(10).hex()
        expires = now + self.config.timeout_s
        self._mirror.setdefault(digest, {})[approval_id] = _Entry("pending", expires, None, None)
        row = dict(
            id=approval_id, status="pending", source=ctx.surface, route=ctx.model[:64], server=ctx.model[:64],
            tool=tool[:512], principal=principal_of(ctx), session_id=ctx.session_id, request_id=ctx.request_id,
            digest=digest, args_sha256=hashlib.sha256(arguments.encode()).hexdigest(),
            args_preview=arguments[:_PREVIEW], reason=reason, created_at=now, expires_at=expires,
        )  # fmt: skip
        log.info("tool call %s held for approval %s (%s)", tool, approval_id, reason)
        return Ruling("pending", approval_id), row

    async def write(self, rows: list[dict[str, Any]]) -> None:
        """Store new pending approvals (before the caller hears their ids)."""
        if rows:
            await store.insert(self._require(), rows)

    async def refresh(self, digests: list[str]) -> None:
        """Read these calls' rows from the database (an answer in one piece can wait)."""
        self._take(await store.by_digest(self._require(), digests))

    def _take(self, rows: list[dict[str, Any]]) -> None:
        for row in rows:
            self._mirror.setdefault(row["digest"], {})[row["id"]] = _Entry(
                row["status"], row["expires_at"], row["decided_at"], row["decided_by"]
            )

    def _require(self) -> AsyncEngine:
        if self._engine is None:
            raise RuntimeError("tool-call approvals are not started")
        return self._engine

    # ------------------------------------------------------------------ background

    def observe(self, ctx: RequestContext) -> None:
        """Nothing to see per request (the runtime ``Observer`` protocol)."""

    async def start(self) -> None:
        self._engine = create_engine(self._db_url, pool_size=2)
        if self._migrate:
            await upgrade(self._engine)
        horizon = self.config.timeout_s + self.config.valid_s
        self._read_at = time.time() - horizon
        with contextlib.suppress(Exception):  # the watcher retries
            await self._poll()
        self._task = asyncio.create_task(self._watch(), name="tool-call-approvals")

    async def stop(self) -> None:
        await stop_task(self._task)
        if self._engine is not None:
            await self._engine.dispose()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self.config.poll_s)
            try:
                await self._poll()
            except Exception:
                log.exception("tool-call approvals: could not read decisions")

    async def _poll(self) -> None:
        started = time.time()
        self._take(await store.changed_since(self._require(), self._read_at - _SKEW_S))
        self._read_at = started
        self._prune(started)

    def _prune(self, now: float) -> None:
        for digest in [d for d, entries in self._mirror.items() if not self.ruling(d, now)]:
            del self._mirror[digest]
