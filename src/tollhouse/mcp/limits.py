"""Tool-call caps: per MCP session, per agent per minute, per caller and tool per minute.

Counted with the limits area's counter stores (atomic check-and-count over all three at
once), so a refused call counts against none of them: in process, or — with ``redis.url`` —
in Redis, shared by every replica. While Redis is unreachable the counts fall back to this
process's own.
"""

from __future__ import annotations

import itertools

from tollhouse.limits.counters import COUNT, Admission, CounterStore, Expiry, Op, StoreUnavailable
from tollhouse.limits.memory import MemoryStore
from tollhouse.mcp.audit import session_of
from tollhouse.mcp.call import Caller, McpCall
from tollhouse.mcp.catalog import Definition
from tollhouse.mcp.config import McpLimits
from tollhouse.mcp.protocol import RATE_LIMITED, RpcError

_MINUTE = Expiry("a", 60_000)
_SESSION = Expiry("i", 86_400_000)  # a session's count lives until a day after its last call


class ToolLimits:
    """The configured tool-call caps over one in-process counter store."""

    def __init__(
        self,
        config: McpLimits,
        store: MemoryStore | None = None,
        shared: CounterStore | None = None,
        prefix: str = "",
    ) -> None:
        self._config = config
        self._store = store or MemoryStore()
        self._shared = shared  # Redis: counts across replicas
        self._ids = itertools.count(1)
        self._prefix = prefix if shared is not None else ""  # Redis keys share the limits' prefix

    async def close(self) -> None:
        if self._shared is not None:
            await self._shared.close()

    def _ops(self, caller: Caller, item: Definition) -> list[tuple[str, Op]]:
        c = self._config
        ops: list[tuple[str, Op]] = []
        session = session_of(caller)
        if c.per_session is not None and session is not None:
            ops.append(
                ("per_session", Op(f"{self._prefix}mcp:s:{session}", COUNT, 1, c.per_session, _SESSION))
            )
        agent = caller.agent
        if c.per_agent_per_minute is not None and agent is not None:
            ops.append(
                (
                    "per_agent_per_minute",
                    Op(f"{self._prefix}mcp:a:{agent}", COUNT, 1, c.per_agent_per_minute, _MINUTE),
                )
            )
        p = caller.principal
        who = f"{p.kind}:{p.id}" if p is not None else "anonymous"
        if c.per_tool_per_minute is not None:
            key = f"{self._prefix}mcp:t:{who}:{item.server}/{item.key}"
            ops.append(("per_tool_per_minute", Op(key, COUNT, 1, c.per_tool_per_minute, _MINUTE)))
        return ops

    async def admit(self, caller: Caller, call: McpCall, item: Definition) -> None:
        """Count the call, or refuse it (``RpcError``) naming the cap it would exceed."""
        named = self._ops(caller, item)
        if not named:
            return
        admission = Admission(f"mcp-{next(self._ids)}", tuple(op for _, op in named), 0)
        verdict = None
        if self._shared is not None:
            try:
                verdict = await self._shared.admit(admission)
            except StoreUnavailable:
                call.detail["limits"] = "redis unreachable: counted in this replica"
        if verdict is None:
            verdict = self._store.admit_now(admission)
        if verdict.admitted:
            return
        for (name, op), result in zip(named, verdict.results, strict=True):
            if not result.ok:
                call.deny("denied", "mcp_limits", name)
                raise RpcError(RATE_LIMITED, f"tool-call limit {name} reached ({op.limit})")
