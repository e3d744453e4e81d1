"""An upstream over Streamable HTTP (2025-11-25 era): one gateway session, POST per message.

A request's response is JSON or an SSE stream; on a stream, the upstream's notifications
and requests that precede the response belong to that call, so they go to its relay and
the answers to its requests are POSTed back. A 404 on a known session means the upstream
forgot it: the link initializes again and retries once.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

import aiohttp
import orjson

from tollhouse.errors import UpstreamAuthFailed, UpstreamRejected, UpstreamTimeout, UpstreamUnavailable
from tollhouse.mcp.config import McpServerConfig
from tollhouse.mcp.protocol import (
    LATEST_HANDSHAKE,
    UNSUPPORTED_PROTOCOL_VERSION,
    Message,
    RpcError,
    notification_message,
    request_message,
)
from tollhouse.mcp.sse import read_events
from tollhouse.mcp.upstream import envelope
from tollhouse.mcp.upstream.credentials import HeaderSource
from tollhouse.mcp.upstream.link import Calls, Listener, Relay, answer, initialize_params, outcome
from tollhouse.upstream.pool import UpstreamPool

_ACCEPT = "application/json, text/event-stream"
log = logging.getLogger("tollhouse.mcp")


class _SessionGone(Exception):
    """The upstream answered 404 for our session id."""


class HttpLink:
    """The gateway's session with one Streamable HTTP upstream."""

    def __init__(
        self,
        name: str,
        config: McpServerConfig,
        credentials: HeaderSource,
        pool: UpstreamPool,
        listener: Listener | None = None,
    ) -> None:
        assert config.url is not None
        self.name = name
        self._url = config.url
        self._config = config
        self.credentials = credentials
        self._pool = pool
        self._listener = listener
        self._calls = Calls()
        self._session_id: str | None = None
        self._version = LATEST_HANDSHAKE
        self._ready = False
        self._modern = False  # the upstream speaks 2026-07-28 (no session, per-request envelope)
        # A tool's input schema, from the catalog: which arguments to mirror in Mcp-Param-* headers.
        self.input_schema: Callable[[str], Any] = _no_schema
        self._lock = asyncio.Lock()
        self._tasks: set[asyncio.Task[None]] = set()
        self._listening: asyncio.Task[None] | None = None

    async def start(self) -> None:
        return None  # connects on first use, so an upstream that is down does not stop the gateway

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._session_id is not None:
            try:
                session = self._pool.session(self._url, 256)
                headers = await self._headers()
                async with session.delete(self._url, headers=headers, timeout=aiohttp.ClientTimeout(total=2)):
                    pass
            except (TimeoutError, aiohttp.ClientError, OSError, UpstreamAuthFailed, UpstreamUnavailable):
                pass  # the upstream forgets idle sessions itself
        self._session_id, self._ready = None, False

    async def request(
        self, method: str, params: dict[str, Any] | None, relay: Relay | None = None
    ) -> dict[str, Any]:
        await self._ensure_ready()
        if self._modern:
            return await self._modern_request(method, params, relay)
        for attempt in (1, 2):
            await self._ensure_ready()
            rid = self._calls.next_id()
            sent = self._calls.open(rid, params, relay)
            try:
                return await self._exchange(request_message(rid, method, sent), relay)
            except asyncio.CancelledError:
                self._spawn(
                    self._post_message(notification_message("notifications/cancelled", {"requestId": rid}))
                )
                raise
            except _SessionGone:
                self._ready = False
                if attempt == 2:
                    raise UpstreamUnavailable(f"MCP server {self.name} keeps losing its session") from None
            finally:
                self._calls.close(rid, params)
        raise AssertionError("unreachable")

    async def _modern_request(
        self, method: str, params: dict[str, Any] | None, relay: Relay | None
    ) -> dict[str, Any]:
        """One 2026-07-28 request, with as many ``input_required`` rounds as it takes."""
        for _ in range(envelope.MAX_ROUNDS):
            rid = self._calls.next_id()
            sent = self._calls.open(rid, params, relay)
            try:
                schema = (
                    self.input_schema(str((params or {}).get("name"))) if method == "tools/call" else None
                )
                body, headers = envelope.stamp(method, sent, schema)
                result = await self._exchange(request_message(rid, method, body), relay, headers)
            finally:
                self._calls.close(rid, params)
            if result.get("resultType") != "input_required":
                return result
            params = envelope.retry_params(params, result, await envelope.answers(relay, result))
        raise UpstreamUnavailable(f"MCP server {self.name} kept asking for input")

    async def _ensure_ready(self) -> None:
        if self._ready:
            return
        async with self._lock:
            if self._ready:
                return
            if self._config.era == "modern":
                self._modern = self._ready = True
                return
            self._session_id = None
            rid = self._calls.next_id()
            message = request_message(rid, "initialize", initialize_params(LATEST_HANDSHAKE))
            try:
                result = await self._exchange(message, None)
            except _SessionGone:
                raise UpstreamUnavailable(f"MCP server {self.name} refused to start a session") from None
            except RpcError as exc:
                if exc.code != UNSUPPORTED_PROTOCOL_VERSION or self._config.era != "auto":
                    raise
                self._modern = self._ready = True  # a server of the stateless era only
                return
            version = result.get("protocolVersion")
            self._version = version if isinstance(version, str) else LATEST_HANDSHAKE
            await self._post_message(notification_message("notifications/initialized", None))
            self._ready = True

    async def _headers(self) -> dict[str, str]:
        headers = {"accept": _ACCEPT, "content-type": "application/json"}
        headers.update(await self.credentials.headers())
        if self._session_id is not None:
            headers["mcp-session-id"] = self._session_id
            headers["mcp-protocol-version"] = self._version
        return headers

    async def _exchange(
        self, message: Message, relay: Relay | None, extra: dict[str, str] | None = None
    ) -> dict[str, Any]:
        session = self._pool.session(self._url, 256)
        timeout = aiohttp.ClientTimeout(total=self._config.timeout_s, connect=self._config.connect_timeout_s)
        headers = await self._headers()
        if extra:
            headers = {**headers, **extra}
        try:
            async with session.post(
                self._url, data=orjson.dumps(message), headers=headers, timeout=timeout
            ) as response:
                self._check_status(response)
                sid = response.headers.get("mcp-session-id")
                if sid and message.get("method") == "initialize":
                    self._session_id = sid
                if response.content_type == "text/event-stream":
                    return await self._read_stream(response, message["id"], relay)
                body = await response.read()
                if response.status >= 400:
                    raise _http_error(self.name, response.status, body)
                return outcome(orjson.loads(body))
        except TimeoutError as exc:
            raise UpstreamTimeout(f"MCP server {self.name} did not answer in time") from exc
        except aiohttp.ClientConnectorError as exc:
            raise UpstreamUnavailable(f"cannot connect to MCP server {self.name}") from exc
        except (aiohttp.ClientError, OSError, orjson.JSONDecodeError) as exc:
            raise UpstreamUnavailable(f"MCP server {self.name} failed: {type(exc).__name__}") from exc

    def _check_status(self, response: aiohttp.ClientResponse) -> None:
        if response.status == 404 and self._session_id is not None:
            raise _SessionGone
        if response.status in (401, 403):
            self.credentials.invalidate()
            raise UpstreamAuthFailed(f"MCP server {self.name} refused the gateway's credentials")

    async def _read_stream(
        self, response: aiohttp.ClientResponse, rid: Any, relay: Relay | None
    ) -> dict[str, Any]:
        async for event in read_events(response.content):
            if event.event != "message" or not event.data:
                continue
            message = orjson.loads(event.data)
            if not isinstance(message, dict):
                continue
            if "method" not in message and message.get("id") == rid:
                return outcome(message)
            await self._incoming(message, relay)
        raise UpstreamUnavailable(f"MCP server {self.name} closed its stream before answering")

    async def _incoming(self, message: Message, relay: Relay | None) -> None:
        method = message.get("method")
        if method is None:
            return
        if "id" in message:  # the upstream asks the caller something: answer in the background
            self._spawn(self._reply(relay, message))
        elif method == "notifications/progress":
            await self._calls.progress(message)
        elif relay is not None and method == "notifications/message":
            await relay.notify(message)
        elif self._listener is not None:
            self._listener(self.name, message)

    def listen(self) -> None:
        """Keep the upstream's standalone stream (GET) open from now on: notifications outside
        any call (a followed resource's updates) arrive there."""
        if self._listening is None or self._listening.done():
            self._listening = asyncio.create_task(self._listen_loop(), name=f"mcp-listen-{self.name}")
            self._tasks.add(self._listening)
            self._listening.add_done_callback(self._tasks.discard)

    async def _listen_loop(self) -> None:
        backoff = 0.5
        while True:
            try:
                await self._ensure_ready()
                if self._modern or not await self._listen_once():
                    return  # no standalone stream in this era / on this server
                backoff = 0.5
            except asyncio.CancelledError:
                raise
            except _SessionGone:
                self._ready = False
            except Exception as exc:  # down or refusing: try again later
                log.info("MCP server %s: standalone stream: %s", self.name, type(exc).__name__)
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, 30.0)

    async def _listen_once(self) -> bool:
        """One GET stream until it ends; False when the server offers none (405)."""
        session = self._pool.session(self._url, 256)
        headers = {**(await self._headers()), "accept": "text/event-stream"}
        timeout = aiohttp.ClientTimeout(total=None, connect=self._config.connect_timeout_s)
        async with session.get(self._url, headers=headers, timeout=timeout) as response:
            self._check_status(response)
            if response.status == 405:
                return False
            if response.status >= 400 or response.content_type != "text/event-stream":
                raise UpstreamUnavailable(f"MCP server {self.name} refused its stream ({response.status})")
            async for event in read_events(response.content):
                if event.event == "message" and event.data:
                    message = orjson.loads(event.data)
                    if isinstance(message, dict):
                        await self._incoming(message, None)
        return True

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(_quietly(self.name, work))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _reply(self, relay: Relay | None, message: Message) -> None:
        await self._post_message(await answer(relay, message))

    async def _post_message(self, message: Message) -> None:
        """A notification or response: the upstream acknowledges with 202."""
        session = self._pool.session(self._url, 256)
        timeout = aiohttp.ClientTimeout(total=self._config.timeout_s)
        try:
            async with session.post(
                self._url, data=orjson.dumps(message), headers=await self._headers(), timeout=timeout
            ) as response:
                await response.read()
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise UpstreamUnavailable(f"MCP server {self.name} failed: {type(exc).__name__}") from exc


def _no_schema(tool: str) -> Any:
    return None


async def _quietly(server: str, work: Coroutine[Any, Any, None]) -> None:
    """Background sends to an upstream: a failure is logged, never raised into nothing."""
    try:
        await work
    except (UpstreamUnavailable, UpstreamAuthFailed) as exc:
        log.warning("MCP server %s: %s", server, exc.message)


def _http_error(server: str, status: int, body: bytes) -> Exception:
    try:
        message = orjson.loads(body)
    except orjson.JSONDecodeError:
        message = None
    if isinstance(message, dict) and isinstance(message.get("error"), dict):
        error = message["error"]
        return RpcError(int(error.get("code", -32603)), str(error.get("message", "")), error.get("data"))
    if 400 <= status < 500:
        return UpstreamRejected(f"MCP server {server} refused the request ({status})")
    return UpstreamUnavailable(f"MCP server {server} failed ({status})")
