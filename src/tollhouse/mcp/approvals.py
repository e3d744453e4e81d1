"""Human approval of tool calls: the call is held until an approver decides, or time runs out.

Which calls: tools listed in ``mcp.approvals.tools`` (``server/tool``, ``server/*``), every
tool whose definition says ``destructiveHint: true`` when ``destructive`` is on (a hint can
only add friction, never grant anything), and calls a guard answered ``require_approval``.

A held call is a row in the ``approvals`` table shared with the LLM surfaces (source
``mcp``; its arguments after guard redaction, capped); ``tollhouse approvals`` (or
``tollhouse mcp calls``) and the admin API list and decide them, from any replica. One
watcher task per process polls the rows of its held calls every ``poll_s`` — the database
is touched only by calls that wait for a human anyway, never by the others.
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.approvals import store
from tollhouse.background import stop_task
from tollhouse.mcp.audit import session_of
from tollhouse.mcp.call import Caller, McpCall
from tollhouse.mcp.catalog import Definition
from tollhouse.mcp.config import ApprovalConfig
from tollhouse.mcp.protocol import APPROVAL_DENIED, RpcError
from tollhouse.storage.engine import create_engine
from tollhouse.storage.migrate import upgrade

log = logging.getLogger("tollhouse.mcp")
_PREVIEW = 4000  # characters of the arguments an approver sees


def _matches(patterns: tuple[str, ...], server: str, tool: str) -> bool:
    name = f"{server}/{tool}"
    return any(p == name or (p.endswith("*") and name.startswith(p[:-1])) for p in patterns)


class Approvals:
    """Holds calls that need a human and waits for the decision (see the module docstring)."""

    def __init__(self, config: ApprovalConfig, db_url: str, migrate: bool) -> None:
        self._config = config
        self._patterns = tuple(config.tools)
        self._db_url = db_url
        self._migrate = migrate
        self._engine: AsyncEngine | None = None
        self._waiting: dict[str, asyncio.Future[tuple[str, str | None]]] = {}
        self._task: asyncio.Task[None] | None = None

    def reason(self, call: McpCall, item: Definition) -> str | None:
        """Why this call needs approval, or None."""
        if _matches(self._patterns, item.server, item.key):
            return "configured"
        annotations = item.body.get("annotations")
        if (
            self._config.destructive
            and isinstance(annotations, dict)
            and annotations.get("destructiveHint") is True
        ):
            return "destructive"
        guard = call.detail.get("approval_required_by")
        return f"guard {guard}" if guard else None

    async def hold(self, caller: Caller, call: McpCall, item: Definition, args: dict[str, Any]) -> None:
        """Return when approved; raise ``RpcError`` when denied or timed out."""
        why = self.reason(call, item)
        if why is None:
            return
        if self._engine is None:
            raise RpcError(APPROVAL_DENIED, "approvals are not available (no database)")
        approval_id = "apr_" + os.urandom(10).hex()
        call.detail["approval_id"] = approval_id
        future: asyncio.Future[tuple[str, str | None]] = asyncio.get_running_loop().create_future()
        self._waiting[approval_id] = future
        try:
            await self._insert(approval_id, caller, call, item, args, why)
            log.info("MCP call %s/%s held for approval %s (%s)", item.server, item.key, approval_id, why)
            try:
                status, actor = await asyncio.wait_for(asyncio.shield(future), self._config.timeout_s)
            except TimeoutError:
                await self._expire(approval_id)
                status, actor = "expired", None
        finally:
            self._waiting.pop(approval_id, None)
        call.detail["approval"] = status
        if actor:
            call.detail["approved_by" if status == "approved" else "decided_by"] = actor
        if status != "approved":
            call.deny("denied", "approval", status)
            raise RpcError(
                APPROVAL_DENIED, f"the call was not approved ({status}); approval id {approval_id}"
            )

    async def _insert(
        self,
        approval_id: str,
        caller: Caller,
        call: McpCall,
        item: Definition,
        args: dict[str, Any],
        why: str,
    ) -> None:
        assert self._engine is not None
        p = caller.principal
        now = time.time()
        preview = orjson.dumps(args, option=orjson.OPT_SORT_KEYS).decode()[:_PREVIEW]
        row = dict(
            id=approval_id, status="pending", source=store.MCP, route=caller.route.name, server=item.server,
            tool=item.key, principal=f"{p.kind}:{p.id}" if p else "anonymous", session_id=session_of(caller),
            request_id=caller.ctx.request_id, digest="", args_sha256=call.args_sha256 or "",
            args_preview=preview, reason=why, created_at=now, expires_at=now + self._config.timeout_s,
        )  # fmt: skip
        await store.insert(self._engine, [row])

    async def _expire(self, approval_id: str) -> None:
        assert self._engine is not None
        await store.expire(self._engine, approval_id)

    # ---------------------------------------------------------------- background

    async def start(self) -> None:
        self._engine = create_engine(self._db_url, pool_size=2)
        if self._migrate:
            await upgrade(self._engine)
        self._task = asyncio.create_task(self._watch(), name="mcp-approvals")

    async def stop(self) -> None:
        await stop_task(self._task)
        if self._engine is not None:
            await self._engine.dispose()

    async def _watch(self) -> None:
        while True:
            await asyncio.sleep(self._config.poll_s)
            if not self._waiting:
                continue
            try:
                await self._poll()
            except Exception:
                log.exception("MCP approvals: could not read decisions")

    async def _poll(self) -> None:
        assert self._engine is not None
        for approval_id, status, actor in await store.decisions(self._engine, list(self._waiting)):
            future = self._waiting.get(approval_id)
            if future is not None and not future.done():
                future.set_result((status, actor))
