"""Upstreams that are one duplex message stream (stdio, legacy HTTP+SSE): responses are
matched to requests by id, and the connection is re-established when it breaks.

These transports do not say which call an upstream's own request belongs to; it goes to
the caller of the one call in flight, and is refused when several are.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from tollhouse.errors import UpstreamTimeout, UpstreamUnavailable
from tollhouse.mcp.config import McpServerConfig
from tollhouse.mcp.protocol import LATEST_HANDSHAKE, Message, notification_message, request_message
from tollhouse.mcp.upstream.link import Calls, Listener, Relay, answer, initialize_params, outcome

log = logging.getLogger("tollhouse.mcp")


class StreamLink:
    """The shared half: pending requests, dispatch of what arrives, the handshake."""

    def __init__(self, name: str, config: McpServerConfig, listener: Listener | None = None) -> None:
        self.name = name
        self._config = config
        self._listener = listener
        self._calls = Calls()
        self._pending: dict[Any, asyncio.Future[Message]] = {}
        self._ready = asyncio.Event()
        self._broken: str | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    # -------------------------------------------------------------- subclass side

    async def _send(self, message: Message) -> None:
        raise NotImplementedError

    def _connection_lost(self, why: str) -> None:
        """Fail every pending request; the subclass reconnects."""
        self._ready.clear()
        self._broken = why
        for future in self._pending.values():
            if not future.done():
                future.set_exception(UpstreamUnavailable(f"MCP server {self.name} {why}"))
        self._pending.clear()

    async def _handshake(self) -> None:
        """Initialize a fresh connection; then requests may flow."""
        result = await self._roundtrip(
            "initialize", initialize_params(LATEST_HANDSHAKE), None, handshake=True
        )
        log.info("MCP server %s ready (protocol %s)", self.name, result.get("protocolVersion"))
        await self._send(notification_message("notifications/initialized", None))
        self._broken = None
        self._ready.set()

    def _received(self, message: Message) -> None:
        if not isinstance(message, dict):
            return
        method = message.get("method")
        if method is None:
            future = self._pending.pop(message.get("id"), None)
            if future is not None and not future.done():
                future.set_result(message)
            return
        if "id" in message:
            self._spawn(self._reply(message))
        elif method == "notifications/progress":
            self._spawn(self._progress(message))
        elif method == "notifications/message" and (relay := self._calls.sole_relay()) is not None:
            self._spawn(relay.notify(message))
        elif self._listener is not None:
            self._listener(self.name, message)

    # -------------------------------------------------------------- callers' side

    async def request(
        self, method: str, params: dict[str, Any] | None, relay: Relay | None = None
    ) -> dict[str, Any]:
        try:
            async with asyncio.timeout(self._config.connect_timeout_s):
                await self._ready.wait()
        except TimeoutError:
            raise UpstreamUnavailable(f"MCP server {self.name} is not available ({self._broken})") from None
        return await self._roundtrip(method, params, relay)

    async def _roundtrip(
        self, method: str, params: dict[str, Any] | None, relay: Relay | None, handshake: bool = False
    ) -> dict[str, Any]:
        rid = self._calls.next_id()
        sent = self._calls.open(rid, params, relay)
        future: asyncio.Future[Message] = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            await self._send(request_message(rid, method, sent))
            async with asyncio.timeout(self._config.timeout_s):
                return outcome(await future)
        except TimeoutError:
            if not handshake:
                self._spawn(self._cancel(rid))
            raise UpstreamTimeout(f"MCP server {self.name} did not answer in time") from None
        finally:
            self._pending.pop(rid, None)
            self._calls.close(rid, params)

    async def _cancel(self, rid: Any) -> None:
        params = {"requestId": rid, "reason": "timeout"}
        with contextlib.suppress(UpstreamUnavailable):
            await self._send(notification_message("notifications/cancelled", params))

    async def _reply(self, message: Message) -> None:
        response = await answer(self._calls.sole_relay(), message)
        try:
            await self._send(response)
        except UpstreamUnavailable:
            log.warning("MCP server %s went away before its request was answered", self.name)

    async def _progress(self, message: Message) -> None:
        await self._calls.progress(message)

    def _spawn(self, work: Any) -> None:
        task = asyncio.create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _cancel_tasks(self) -> None:
        for task in list(self._tasks):
            task.cancel()
