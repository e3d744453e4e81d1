"""2025-11-25 client sessions shared across replicas through Redis.

What a replica needs to serve a session it did not open is small: the route, the owner
(the principal that opened it), the negotiated protocol version, the client's capabilities
and info. ``initialize`` writes that record under ``{prefix}{session id}`` with the idle
timeout as its TTL; a replica that meets an unknown session id reads it back and serves the
session from then on. Each replica re-checks (and extends) a session it holds at most every
``recheck_s`` (2 s) — one ``PEXPIRE`` — so a session ended on one replica (DELETE) ends everywhere
within that time, and a busy session never expires.

What stays with the replica a request reached: calls in flight (a sampling or elicitation
answer must come back to the replica holding the call), the standalone stream and the
resource subscriptions behind it. Redis down: sessions work as per replica (logged).
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from tollhouse.limits.resp import RespClient, RespError

log = logging.getLogger("tollhouse.mcp")
_FAILURES = (OSError, ConnectionError, TimeoutError, RespError)


class SharedSessions:
    """The session records in Redis. Every method degrades to "not shared" on failure."""

    def __init__(
        self, url: str, idle_s: float, prefix: str = "tollhouse:limits:mcp:session:", recheck_s: float = 2.0
    ) -> None:
        self._client = RespClient(url, 0.5)
        self._ttl_ms = max(int(idle_s * 1000), 1000)
        self._prefix = prefix
        self.recheck_s = min(recheck_s, idle_s / 2)
        self._warned_at = 0.0

    async def save(self, session_id: str, record: dict[str, Any]) -> None:
        await self._call("SET", self._prefix + session_id, orjson.dumps(record), "PX", self._ttl_ms)

    async def load(self, session_id: str) -> dict[str, Any] | None:
        raw = await self._call("GET", self._prefix + session_id)
        if not isinstance(raw, bytes | str):
            return None
        try:
            record = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return None
        return record if isinstance(record, dict) else None

    async def touch(self, session_id: str) -> bool | None:
        """Extend the session's TTL: True if it still exists, False if it ended, None if unknown
        (Redis unreachable: keep serving it)."""
        reply = await self._call("PEXPIRE", self._prefix + session_id, self._ttl_ms)
        return None if reply is None else reply == 1

    async def delete(self, session_id: str) -> None:
        await self._call("DEL", self._prefix + session_id)

    async def close(self) -> None:
        await self._client.close()

    async def _call(self, *args: bytes | str | int) -> Any:
        try:
            reply = await self._client.call(*args)
        except _FAILURES as exc:
            now = time.monotonic()
            if now - self._warned_at > 60:  # once a minute is enough to say so
                self._warned_at = now
                log.warning(
                    "MCP sessions: redis unreachable (%s); sessions are per replica", type(exc).__name__
                )
            return None
        if isinstance(reply, RespError):
            return None
        return reply
