"""The OpenAI-compatible provider: OpenAI itself and every server speaking its API."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import AsyncGenerator
from typing import Any

import aiohttp
import orjson
from multidict import CIMultiDict
from yarl import URL

from tollhouse.config.schema import ProviderConfig
from tollhouse.config.secrets import Secret
from tollhouse.errors import InvalidRequest, UpstreamTimeout, UpstreamUnavailable
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.openai_compatible.catalog import CATALOG, GENERIC, CatalogRow
from tollhouse.providers.openai_compatible.errors import map_error
from tollhouse.providers.openai_compatible.request import passthrough_body, translated_body
from tollhouse.providers.openai_compatible.response import decode_response, decode_usage
from tollhouse.providers.openai_compatible.stream import (
    SSERelay,
    StreamDecoder,
    cut_usage,
    estimate_prompt_tokens,
    estimate_usage,
)
from tollhouse.providers.protocol import ChatResult, EmbedResult, StreamItem, WireBody, WireChunk
from tollhouse.upstream import attempt
from tollhouse.upstream.pool import UpstreamPool


class OpenAICompatibleProvider:
    """OpenAI-dialect calls go on the passthrough lane (one body copy, no re-encoding out);
    calls in other dialects (``ctx.dialect``) are translated through the canonical model."""

    def __init__(self, name: str, config: ProviderConfig, api_key: Secret | None, pool: UpstreamPool) -> None:
        self.name = name
        self._row: CatalogRow = CATALOG.get(config.kind, GENERIC)
        base = config.base_url or self._row.base_url
        if not base:
            raise ValueError(f"provider {name}: base_url is required for kind {config.kind}")
        self.base_url = base
        self._pool = pool
        self._max_connections = config.max_connections
        headers = {"content-type": "application/json", **dict(self._row.headers), **config.headers}
        if api_key is not None:
            value = api_key.reveal()
            header = self._row.auth_header
            headers[header] = f"Bearer {value}" if header == "authorization" else value
        self._headers = CIMultiDict(headers)  # aiohttp's own type: not converted per request
        t = config.timeouts
        # A non-streaming answer arrives whole when generation ends (its headers come with it),
        # so total_s bounds it; a per-read timer would only be rescheduled on every chunk.
        self._timeout = aiohttp.ClientTimeout(total=t.total_s, sock_connect=t.connect_s)
        # Streams have no total: a long answer is fine while chunks keep coming.
        self._stream_timeout = aiohttp.ClientTimeout(
            total=None, sock_connect=t.connect_s, sock_read=t.first_byte_s
        )
        # Parsed once: aiohttp would otherwise parse the URL string on every request.
        self._chat_url = URL(f"{base}/chat/completions")
        self._embed_url = URL(f"{base}/embeddings")

    def rekey(self, api_key: Secret) -> None:
        """Send ``api_key`` from now on (a rotated vault credential): one reference swap."""
        value, header = api_key.reveal(), self._row.auth_header
        headers = CIMultiDict(self._headers)
        headers[header] = f"Bearer {value}" if header == "authorization" else value
        self._headers = headers

    def _session(self) -> aiohttp.ClientSession:
        return self._pool.session(self.base_url, self._max_connections)

    async def _call(self, url: URL, body: bytes, ctx: RequestContext) -> tuple[bytes, Any]:
        """The upstream's body and its parsed JSON (parsed once: usage is read from it)."""
        response = await attempt.post(self._session(), url, body, self._headers, self._timeout, self.name)
        data = await attempt.read_body(response, self.name)
        ctx.first_byte_at = time.perf_counter()
        if response.status >= 400:
            raise map_error(response.status, data, self.name, response.headers.get("retry-after"))
        try:
            parsed = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise UpstreamUnavailable(f"provider {self.name} returned a body that is not JSON") from None
        if isinstance(parsed, dict):
            ctx.usage = decode_usage(parsed.get("usage"))
        return data, parsed

    def _require_openai_dialect(self, ctx: RequestContext) -> None:
        if ctx.surface not in ("chat", "embeddings"):
            raise InvalidRequest(f"provider {self.name} cannot serve the {ctx.surface} surface yet")

    async def chat(self, ctx: RequestContext, model: str) -> ChatResult:
        if ctx.dialect == "openai":  # the passthrough lane: the caller's body, the upstream's bytes
            self._require_openai_dialect(ctx)
            body = passthrough_body(ctx.payload, model, self._row)
            return WireBody((await self._call(self._chat_url, body, ctx))[0])
        request = ctx.chat_request()
        _, parsed = await self._call(self._chat_url, translated_body(request, model, self._row, False), ctx)
        response = decode_response(parsed, self.name)
        if response.usage is None:  # every answer reports usage: counted when the upstream did not
            ctx.usage = estimate_usage(request, response)
            response = dataclasses.replace(response, usage=ctx.usage)
        return response

    async def embed(self, ctx: RequestContext, model: str) -> EmbedResult:
        self._require_openai_dialect(ctx)
        body = passthrough_body(ctx.payload, model, self._row)
        return WireBody((await self._call(self._embed_url, body, ctx))[0])

    def chat_stream(self, ctx: RequestContext, model: str) -> AsyncGenerator[StreamItem, None]:
        if ctx.dialect == "openai":
            return self._relay_stream(ctx, model)
        return self._translated_stream(ctx, model)

    async def _open_stream(self, body: bytes) -> aiohttp.ClientResponse:
        response = await attempt.post(
            self._session(), self._chat_url, body, self._headers, self._stream_timeout, self.name
        )
        if response.status >= 400:
            data = await attempt.read_body(response, self.name)  # releases the connection
            raise map_error(response.status, data, self.name, response.headers.get("retry-after"))
        return response

    async def _translated_stream(self, ctx: RequestContext, model: str) -> AsyncGenerator[StreamItem, None]:
        request = ctx.chat_request()
        response = await self._open_stream(translated_body(request, model, self._row, stream=True))
        decoder = StreamDecoder(self.name, estimate_prompt_tokens(request))
        try:
            try:
                async for data in response.content.iter_any():
                    for event in decoder.feed(data):
                        yield event
            except TimeoutError as exc:
                raise UpstreamTimeout(f"provider {self.name} stalled mid-stream") from exc
            except aiohttp.ClientError as exc:
                raise UpstreamUnavailable(f"provider {self.name} broke off the stream") from exc
            rest = decoder.finish()
            ctx.usage = decoder.usage
            for event in rest:
                yield event
        except BaseException:
            response.close()  # cancelled or failed: drop the connection rather than drain it
            ctx.usage = decoder.used()  # what was spent before the stream broke off
            raise
        response.release()

    async def _relay_stream(self, ctx: RequestContext, model: str) -> AsyncGenerator[StreamItem, None]:
        self._require_openai_dialect(ctx)
        body = passthrough_body(ctx.payload, model, self._row)
        response = await attempt.post(
            self._session(), self._chat_url, body, self._headers, self._stream_timeout, self.name
        )
        relay: SSERelay | None = None
        try:
            if response.status >= 400:
                data = await response.read()
                raise map_error(response.status, data, self.name, response.headers.get("retry-after"))
            options = ctx.payload.get("stream_options")
            relay = SSERelay(keep_usage=isinstance(options, dict) and options.get("include_usage") is True)
            try:
                async for data in response.content.iter_any():
                    out = relay.feed(data)
                    if out:
                        yield WireChunk(out)
            except TimeoutError as exc:
                raise UpstreamTimeout(f"provider {self.name} stalled mid-stream") from exc
            except aiohttp.ClientError as exc:
                raise UpstreamUnavailable(f"provider {self.name} broke off the stream") from exc
            rest = relay.finish()
            if rest:
                yield WireChunk(rest)
            ctx.usage = relay.usage
            if not relay.done:
                raise UpstreamUnavailable(f"provider {self.name} ended the stream early")
        except BaseException:
            # Cancelled (client gone) or failed: drop the connection rather than drain it, and
            # count what was spent so far, so limits settle on it rather than the reservation.
            response.close()
            if ctx.usage is None and relay is not None:
                ctx.usage = cut_usage(relay, ctx)
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
