"""Client sessions of the 2025-11-25 era (``Mcp-Session-Id``), and the channel a call uses to
reach its caller while it runs.

A session lives in the process that answered ``initialize``; with Redis configured it is also
published there, so any replica can serve it (``shared_sessions``). It is bound to the
principal that opened it, so a leaked session id is useless to anyone else. Idle sessions
are forgotten.
"""

from __future__ import annotations

import asyncio
import itertools
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tollhouse.mcp.protocol import INTERNAL_ERROR, Message, RpcError, request_message
from tollhouse.mcp.shared_sessions import SharedSessions


@dataclass(slots=True)
class ClientSession:
    """One caller's 2025-11-25 session: its route, owner, version, capabilities and what is in flight."""

    id: str
    route: str
    owner: str  # "kind:id" of the principal that opened it
    version: str
    capabilities: dict[str, Any]
    client_info: dict[str, Any]
    last_used: float = field(default_factory=time.monotonic)
    asks: dict[str, asyncio.Future[Message]] = field(default_factory=dict)
    calls: dict[Any, asyncio.Task[Any]] = field(default_factory=dict)  # client request id → its task
    tool_calls: int = 0
    outbox: asyncio.Queue[Message] | None = None  # the standalone stream (GET), while one is open
    checked_at: float = field(default_factory=time.monotonic)  # last confirmed in the shared store

    def record(self) -> dict[str, Any]:
        """What another replica needs to serve this session."""
        return {
            "route": self.route,
            "owner": self.owner,
            "version": self.version,
            "capabilities": self.capabilities,
            "clientInfo": self.client_info,
        }

    def can(self, capability: str) -> bool:
        return isinstance(self.capabilities.get(capability), dict)


class Sessions:
    """The sessions of this process."""

    def __init__(
        self, idle_s: float, limit: int = 100_000, on_close: Callable[[str], None] | None = None
    ) -> None:
        self._idle = idle_s
        self._limit = limit
        self._sessions: dict[str, ClientSession] = {}
        self.on_close = on_close  # told each session id that ends (its subscriptions go)
        self.shared: SharedSessions | None = None  # Redis: sessions any replica can serve

    async def share(self, session: ClientSession) -> None:
        """Publish a new session for the other replicas (no-op without Redis)."""
        if self.shared is not None:
            await self.shared.save(session.id, session.record())

    async def resolve(self, session_id: str) -> ClientSession | None:
        """The session, from this process or (with Redis) the shared store; None if it ended."""
        session = self.get(session_id)
        shared = self.shared
        if shared is None:
            return session
        now = time.monotonic()
        if session is not None:
            if now - session.checked_at < shared.recheck_s:
                return session
            session.checked_at = now
            if await shared.touch(session_id) is False:  # ended on another replica
                self.close(session_id)
                return None
            return session
        record = await shared.load(session_id)
        if (
            record is None
            or not isinstance(record.get("route"), str)
            or not isinstance(record.get("owner"), str)
        ):
            return None
        session = self._adopt(session_id, record)
        await shared.touch(session_id)
        return session

    async def end(self, session_id: str) -> None:
        """DELETE: the session ends here and, with Redis, everywhere."""
        self.close(session_id)
        if self.shared is not None:
            await self.shared.delete(session_id)

    def _adopt(self, session_id: str, record: dict[str, Any]) -> ClientSession:
        caps, info = record.get("capabilities"), record.get("clientInfo")
        session = ClientSession(
            session_id,
            str(record["route"]),
            str(record["owner"]),
            str(record.get("version") or ""),
            caps if isinstance(caps, dict) else {},
            info if isinstance(info, dict) else {},
        )
        if len(self._sessions) >= self._limit:
            self.sweep()
        self._sessions[session_id] = session
        return session

    def open(self, route: str, owner: str, version: str, params: dict[str, Any]) -> ClientSession:
        if len(self._sessions) >= self._limit:
            self.sweep()
        caps = params.get("capabilities")
        info = params.get("clientInfo")
        session = ClientSession(
            os.urandom(16).hex(),
            route,
            owner,
            version,
            caps if isinstance(caps, dict) else {},
            info if isinstance(info, dict) else {},
        )
        self._sessions[session.id] = session
        return session

    def get(self, session_id: str) -> ClientSession | None:
        session = self._sessions.get(session_id)
        if session is None:
            return None
        now = time.monotonic()
        if now - session.last_used > self._idle:
            self.close(session_id)
            return None
        session.last_used = now
        return session

    def peek(self, session_id: str) -> ClientSession | None:
        """The session, without counting this as a use."""
        return self._sessions.get(session_id)

    def push(self, session_id: str, message: Message) -> None:
        """A notification for the session's standalone stream; dropped when none is open."""
        session = self._sessions.get(session_id)
        if session is not None and session.outbox is not None:
            session.outbox.put_nowait(message)

    def close(self, session_id: str) -> bool:
        session = self._sessions.pop(session_id, None)
        if session is None:
            return False
        if self.on_close is not None:
            self.on_close(session_id)
        if session.outbox is not None:
            session.outbox.put_nowait({})  # ends its standalone stream
        for task in session.calls.values():
            task.cancel()
        for future in session.asks.values():
            if not future.done():
                future.set_exception(RpcError(INTERNAL_ERROR, "the session ended"))
        return True

    def sweep(self) -> None:
        now = time.monotonic()
        idle = [s.id for s in self._sessions.values() if now - s.last_used > self._idle and s.outbox is None]
        for sid in idle:
            self.close(sid)

    def __len__(self) -> int:
        return len(self._sessions)


_ASK_IDS = itertools.count(1)


class Channel:
    """The way back to the caller during one request: notifications, and requests (sampling,
    elicitation) whose answers the caller POSTs on its session. Messages queue until the
    endpoint sends them (it switches the response to SSE for the first one)."""

    def __init__(self, session: ClientSession | None, streams: bool, ask_timeout_s: float) -> None:
        self.session = session
        self.streams = streams  # the caller accepts an SSE response
        self.queue: asyncio.Queue[Message] = asyncio.Queue()
        self._timeout = ask_timeout_s

    def can(self, capability: str) -> bool:
        """Whether the caller declared ``capability`` (sampling, elicitation)."""
        return self.session is not None and self.session.can(capability)

    async def notify(self, message: Message) -> None:
        if self.streams:
            self.queue.put_nowait(message)

    async def ask(self, method: str, params: dict[str, Any] | None) -> dict[str, Any]:
        session = self.session
        if session is None or not self.streams:
            raise RpcError(INTERNAL_ERROR, f"{method} needs a session with a stream to the caller")
        rid = f"th-{next(_ASK_IDS)}"
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        session.asks[rid] = future
        self.queue.put_nowait(request_message(rid, method, params))
        try:
            async with asyncio.timeout(self._timeout):
                reply = await future
        except TimeoutError:
            raise RpcError(INTERNAL_ERROR, f"the caller did not answer {method} in time") from None
        finally:
            session.asks.pop(rid, None)
        if "error" in reply and isinstance(reply["error"], dict):
            error = reply["error"]
            raise RpcError(
                int(error.get("code", INTERNAL_ERROR)), str(error.get("message", "")), error.get("data")
            )
        result = reply.get("result")
        return result if isinstance(result, dict) else {}
