"""Tool-call caps: per MCP session, per agent per minute, per caller and tool per minute.

Counted with the limits area's in-process counter store (atomic check-and-count over all
three at once), so a refused call counts against none of them. Counts are per replica.
"""

from __future__ import annotations

import itertools

from tollhouse.limits.counters import COUNT, Admission, Expiry, Op
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

    def __init__(self, config: McpLimits, store: MemoryStore | None = None) -> None:
        self._config = config
        self._store = store or MemoryStore()
        self._ids = itertools.count(1)

    def _ops(self, caller: Caller, item: Definition) -> list[tuple[str, Op]]:
        c = self._config
        ops: list[tuple[str, Op]] = []
        session = session_of(caller)
        if c.per_session is not None and session is not None:
            ops.append(("per_session", Op(f"mcp:s:{session}", COUNT, 1, c.per_session, _SESSION)))
        agent = caller.agent
        if c.per_agent_per_minute is not None and agent is not None:
            ops.append(
                ("per_agent_per_minute", Op(f"mcp:a:{agent}", COUNT, 1, c.per_agent_per_minute, _MINUTE))
            )
        p = caller.principal
        who = f"{p.kind}:{p.id}" if p is not None else "anonymous"
        if c.per_tool_per_minute is not None:
            key = f"mcp:t:{who}:{item.server}/{item.key}"
            ops.append(("per_tool_per_minute", Op(key, COUNT, 1, c.per_tool_per_minute, _MINUTE)))
        return ops

    def admit(self, caller: Caller, call: McpCall, item: Definition) -> None:
        """Count the call, or refuse it (``RpcError``) naming the cap it would exceed."""
        named = self._ops(caller, item)
        if not named:
            return
        verdict = self._store.admit_now(Admission(f"mcp-{next(self._ids)}", tuple(op for _, op in named), 0))
        if verdict.admitted:
            return
        for (name, op), result in zip(named, verdict.results, strict=True):
            if not result.ok:
                call.deny("denied", "mcp_limits", name)
                raise RpcError(RATE_LIMITED, f"tool-call limit {name} reached ({op.limit})")
