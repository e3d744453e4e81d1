"""A native provider's HTTP calls: pooled session, timeouts, status → typed error, streamed bytes.

Each native provider owns one ``Transport``; it goes to the network only through
``tollhouse.upstream`` (the pool and one attempt), so transport failures are mapped once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator, Callable, Mapping
from typing import Any

import aiohttp
import orjson
from yarl import URL

from tollhouse.config.schema import ProviderConfig
from tollhouse.errors import UpstreamError, UpstreamTimeout, UpstreamUnavailable
from tollhouse.pipeline.context import RequestContext
from tollhouse.upstream import attempt
from tollhouse.upstream.pool import UpstreamPool

# (status, body, provider name, response headers) → the error to raise
ErrorMapper = Callable[[int, bytes, str, Mapping[str, str]], UpstreamError]


class Transport:
    """POSTs to one upstream base URL for the provider called ``name``."""

    def __init__(
        self, name: str, base_url: str, config: ProviderConfig, pool: UpstreamPool, map_error: ErrorMapper
    ) -> None:
        self.name = name
        self.base_url = base_url
        self._pool = pool
        self._max_connections = config.max_connections
        self._map_error = map_error
        t = config.timeouts
        # Same semantics as the OpenAI-compatible provider: total_s bounds a non-streaming call.
        self._timeout = aiohttp.ClientTimeout(total=t.total_s, sock_connect=t.connect_s)
        # Streams have no total: a long answer is fine while chunks keep coming.
        self._stream_timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=t.connect_s, sock_read=t.first_byte_s
        )

    def _session(self) -> aiohttp.ClientSession:
        return self._pool.session(self.base_url, self._max_connections)

    async def call(self, url: str, body: bytes, headers: Mapping[str, str], ctx: RequestContext) -> bytes:
        """The upstream's 2xx body; any other status raises the provider's typed error."""
        response = await attempt.post(self._session(), url, body, headers, self._timeout, self.name)
        data = await attempt.read_body(response, self.name)
        ctx.first_byte_at = time.perf_counter()
        if response.status >= 400:
            raise self._map_error(response.status, data, self.name, response.headers)
        return data

    async def call_json(
        self, url: str, body: bytes, headers: Mapping[str, str], ctx: RequestContext
    ) -> dict[str, Any]:
        """``call``, with the body parsed as a JSON object."""
        return self.parse(await self.call(url, body, headers, ctx))

    def parse(self, data: bytes) -> dict[str, Any]:
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise UpstreamUnavailable(f"provider {self.name} returned a body that is not JSON") from None
        if not isinstance(parsed, dict):
            raise UpstreamUnavailable(f"provider {self.name} returned JSON that is not an object")
        return parsed

    async def stream(self, url: str, body: bytes, headers: Mapping[str, str]) -> AsyncGenerator[bytes, None]:
        """The response body as it arrives. Close it (``aclosing``) to drop the connection early."""
        response = await attempt.post(self._session(), url, body, headers, self._stream_timeout, self.name)
        try:
            if response.status >= 400:
                data = await attempt.read_body(response, self.name)
                raise self._map_error(response.status, data, self.name, response.headers)
            try:
                async for data in response.content.iter_any():
                    yield data
            except TimeoutError as exc:
                raise UpstreamTimeout(f"provider {self.name} stalled mid-stream") from exc
            except aiohttp.ClientError as exc:
                raise UpstreamUnavailable(f"provider {self.name} broke off the stream") from exc
        except BaseException:
            # Cancelled (client gone), closed early or failed: drop the connection, do not drain it.
            response.close()
            raise
        response.release()

    async def check(self) -> bool:
        """Reachable when a TCP connection to the base URL opens (no request, no cost)."""
        url = URL(self.base_url)
        try:
            _reader, writer = await asyncio.wait_for(asyncio.open_connection(url.host, url.port), 2.0)
        except (OSError, TimeoutError):
            return False
        writer.close()
        return True
