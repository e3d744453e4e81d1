"""The Anthropic provider: Messages API, translated from canonical or passed through natively."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing

import orjson

from tollhouse.config.schema import ProviderConfig
from tollhouse.config.secrets import Secret
from tollhouse.errors import InvalidRequest, UpstreamUnavailable
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.anthropic.errors import map_error
from tollhouse.providers.anthropic.relay import MessagesRelay
from tollhouse.providers.anthropic.request import build_request, json_tool_name
from tollhouse.providers.anthropic.response import decode_message, decode_usage
from tollhouse.providers.anthropic.stream import StreamDecoder
from tollhouse.providers.anthropic.wire import API_VERSION
from tollhouse.providers.protocol import ChatResult, EmbedResult, StreamItem, WireBody, WireChunk
from tollhouse.providers.transport import Transport
from tollhouse.upstream.pool import UpstreamPool

BASE_URL = "https://api.anthropic.com"
# What /v1/messages/count_tokens accepts of a Messages body.
COUNT_FIELDS = frozenset({"model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers"})


class AnthropicProvider:
    """Claude through ``POST /v1/messages``. Callers speaking Anthropic's own dialect take the
    passthrough lane: their body is forwarded with only the model replaced."""

    def __init__(self, name: str, config: ProviderConfig, api_key: Secret | None, pool: UpstreamPool) -> None:
        self.name = name
        base = config.base_url or BASE_URL
        self._transport = Transport(name, base, config, pool, map_error)
        self._url = f"{base}/v1/messages"
        self._count_url = f"{base}/v1/messages/count_tokens"
        headers = {"content-type": "application/json", "anthropic-version": config.api_version or API_VERSION}
        if api_key is not None:
            headers["x-api-key"] = api_key.reveal()
        self._headers = {**headers, **config.headers}

    def rekey(self, api_key: Secret) -> None:
        """Send ``api_key`` from now on (a rotated vault credential): one reference swap."""
        self._headers = {**self._headers, "x-api-key": api_key.reveal()}

    def _passthrough(self, ctx: RequestContext, model: str) -> bytes | None:
        if ctx.dialect != "anthropic":
            return None
        body = dict(ctx.payload)
        body["model"] = model
        return orjson.dumps(body)

    async def chat(self, ctx: RequestContext, model: str) -> ChatResult:
        native = self._passthrough(ctx, model)
        if native is not None:
            data = await self._transport.call(self._url, native, self._headers, ctx)
            ctx.usage = decode_usage(self._transport.parse(data).get("usage"))
            return WireBody(data)
        request = ctx.chat_request()
        body = orjson.dumps(build_request(request, model, stream=False))
        parsed = await self._transport.call_json(self._url, body, self._headers, ctx)
        response = decode_message(parsed, int(time.time()), json_tool_name(request.response_format))
        ctx.usage = response.usage
        return response

    async def chat_stream(self, ctx: RequestContext, model: str) -> AsyncGenerator[StreamItem, None]:
        native = self._passthrough(ctx, model)
        if native is not None:
            async for chunk in self._relay(ctx, native):
                yield chunk
            return
        request = ctx.chat_request()
        body = orjson.dumps(build_request(request, model, stream=True))
        decoder = StreamDecoder(self.name, int(time.time()), json_tool_name(request.response_format))
        try:
            async with aclosing(self._transport.stream(self._url, body, self._headers)) as chunks:
                async for data in chunks:
                    for event in decoder.feed(data):
                        yield event
            for event in decoder.finish(request):
                yield event
        finally:
            ctx.usage = decoder.usage.usage  # what was used, even when the stream failed midway

    async def _relay(self, ctx: RequestContext, body: bytes) -> AsyncGenerator[StreamItem, None]:
        relay = MessagesRelay()
        async with aclosing(self._transport.stream(self._url, body, self._headers)) as chunks:
            async for data in chunks:
                out = relay.feed(data)
                if out:
                    yield WireChunk(out)
        rest = relay.finish()
        if rest:
            yield WireChunk(rest)
        ctx.usage = relay.usage
        if not relay.done:
            raise UpstreamUnavailable(f"provider {self.name} ended the stream early")

    async def count_tokens(self, ctx: RequestContext, model: str) -> int:
        """Input tokens as Anthropic counts them (``POST /v1/messages/count_tokens``)."""
        if ctx.dialect == "anthropic":
            source = dict(ctx.payload)
        else:
            source = dict(build_request(ctx.chat_request(), model, stream=False))
        body = {k: v for k, v in source.items() if k in COUNT_FIELDS}
        body["model"] = model
        parsed = await self._transport.call_json(self._count_url, orjson.dumps(body), self._headers, ctx)
        tokens = parsed.get("input_tokens")
        if not isinstance(tokens, int):
            raise UpstreamUnavailable(f"provider {self.name} returned no input_tokens count")
        return tokens

    async def embed(self, ctx: RequestContext, model: str) -> EmbedResult:
        raise InvalidRequest(f"provider {self.name} (Anthropic) has no embeddings API", param="model")

    async def check(self) -> bool:
        return await self._transport.check()
