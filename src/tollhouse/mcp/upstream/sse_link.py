"""An upstream over the legacy HTTP+SSE transport (2024-11-05): a GET opens an event
stream whose first ``endpoint`` event names where to POST messages; every answer arrives
on the stream. Reconnects with backoff when the stream ends."""

from __future__ import annotations

import asyncio
import logging
from urllib.parse import urljoin

import aiohttp
import orjson

from tollhouse.background import stop_task
from tollhouse.errors import UpstreamAuthFailed, UpstreamUnavailable
from tollhouse.mcp.config import McpServerConfig
from tollhouse.mcp.protocol import Message
from tollhouse.mcp.sse import read_events
from tollhouse.mcp.upstream.credentials import Credentials
from tollhouse.mcp.upstream.link import Listener
from tollhouse.mcp.upstream.stream_link import StreamLink
from tollhouse.upstream.pool import UpstreamPool

log = logging.getLogger("tollhouse.mcp")


class SseLink(StreamLink):
    """The gateway's connection to one legacy HTTP+SSE upstream."""

    def __init__(
        self,
        name: str,
        config: McpServerConfig,
        credentials: Credentials,
        pool: UpstreamPool,
        listener: Listener | None = None,
    ) -> None:
        super().__init__(name, config, listener)
        assert config.url is not None
        self._url = config.url
        self._credentials = credentials
        self._pool = pool
        self._endpoint: str | None = None
        self._runner: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._runner = asyncio.create_task(self._run(), name=f"mcp-sse-{self.name}")

    async def close(self) -> None:
        await stop_task(self._runner)
        self._cancel_tasks()

    async def _send(self, message: Message) -> None:
        if self._endpoint is None:
            raise UpstreamUnavailable(f"MCP server {self.name} is not connected")
        session = self._pool.session(self._url, 256)
        headers = {"content-type": "application/json", **(await self._credentials.headers())}
        try:
            async with session.post(
                self._endpoint,
                data=orjson.dumps(message),
                headers=headers,
                timeout=aiohttp.ClientTimeout(total=self._config.timeout_s),
            ) as response:
                await response.read()
                if response.status >= 400:
                    raise UpstreamUnavailable(f"MCP server {self.name} refused a message ({response.status})")
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise UpstreamUnavailable(f"MCP server {self.name} failed: {type(exc).__name__}") from exc

    async def _run(self) -> None:
        backoff = self._config.restart.initial_backoff_s
        while True:
            try:
                await self._connect()
                backoff = self._config.restart.initial_backoff_s
            except (
                TimeoutError,
                aiohttp.ClientError,
                OSError,
                UpstreamUnavailable,
                UpstreamAuthFailed,
            ) as exc:
                log.warning("MCP server %s (SSE) unavailable: %s", self.name, type(exc).__name__)
            self._endpoint = None
            self._connection_lost("disconnected")
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._config.restart.max_backoff_s)

    async def _connect(self) -> None:
        session = self._pool.session(self._url, 256)
        headers = {"accept": "text/event-stream", **(await self._credentials.headers())}
        timeout = aiohttp.ClientTimeout(total=None, connect=self._config.connect_timeout_s)
        async with session.get(self._url, headers=headers, timeout=timeout) as response:
            if response.status != 200:
                raise UpstreamUnavailable(f"MCP server {self.name} answered {response.status}")
            handshake: asyncio.Task[None] | None = None
            try:
                async for event in read_events(response.content):
                    if event.event == "endpoint":
                        self._endpoint = urljoin(self._url, event.data.strip())
                        handshake = asyncio.create_task(self._handshake_logged())
                    elif event.event == "message" and event.data:
                        self._received(orjson.loads(event.data))
            finally:
                if handshake is not None:
                    handshake.cancel()

    async def _handshake_logged(self) -> None:
        try:
            await self._handshake()
        except Exception as exc:
            log.warning("MCP server %s (SSE) handshake failed: %s", self.name, type(exc).__name__)
