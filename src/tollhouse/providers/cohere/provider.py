"""The Cohere provider: v2 chat (JSON and SSE) and v2 embed."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing

import orjson

from tollhouse.config.schema import ProviderConfig
from tollhouse.config.secrets import Secret
from tollhouse.dialects.openai.decode import decode_embeddings
from tollhouse.model.chat import Usage
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.cohere.embeddings import build_embed, decode_embed
from tollhouse.providers.cohere.errors import map_error
from tollhouse.providers.cohere.request import build_request
from tollhouse.providers.cohere.response import decode_chat
from tollhouse.providers.cohere.stream import StreamDecoder
from tollhouse.providers.protocol import ChatResult, EmbedResult, StreamItem
from tollhouse.providers.transport import Transport
from tollhouse.upstream.pool import UpstreamPool

BASE_URL = "https://api.cohere.com"


class CohereProvider:
    """Command and Embed models through Cohere's v2 API (``Authorization: Bearer``)."""

    def __init__(self, name: str, config: ProviderConfig, api_key: Secret | None, pool: UpstreamPool) -> None:
        self.name = name
        base = config.base_url or BASE_URL
        self._transport = Transport(name, base, config, pool, map_error)
        self._chat_url, self._embed_url = f"{base}/v2/chat", f"{base}/v2/embed"
        auth = {"authorization": f"Bearer {api_key.reveal()}"} if api_key is not None else {}
        self._headers = {
            "content-type": "application/json",
            "accept": "application/json",
            **auth,
            **config.headers,
        }

    def rekey(self, api_key: Secret) -> None:
        """Send ``api_key`` from now on (a rotated vault credential): one reference swap."""
        self._headers = {**self._headers, "authorization": f"Bearer {api_key.reveal()}"}

    async def chat(self, ctx: RequestContext, model: str) -> ChatResult:
        body = orjson.dumps(build_request(ctx.chat_request(), model, stream=False))
        parsed = await self._transport.call_json(self._chat_url, body, self._headers, ctx)
        response = decode_chat(parsed, model, int(time.time()))
        ctx.usage = response.usage
        return response

    async def chat_stream(self, ctx: RequestContext, model: str) -> AsyncGenerator[StreamItem, None]:
        request = ctx.chat_request()
        body = orjson.dumps(build_request(request, model, stream=True))
        decoder = StreamDecoder(self.name, model, int(time.time()))
        headers = {**self._headers, "accept": "text/event-stream"}
        try:
            async with aclosing(self._transport.stream(self._chat_url, body, headers)) as chunks:
                async for data in chunks:
                    for event in decoder.feed(data):
                        yield event
            for event in decoder.finish(request):
                yield event
        finally:
            ctx.usage = decoder.usage

    async def embed(self, ctx: RequestContext, model: str) -> EmbedResult:
        request = decode_embeddings(ctx.payload)
        body = orjson.dumps(build_embed(request, model))
        response = decode_embed(
            await self._transport.call_json(self._embed_url, body, self._headers, ctx),
            request,
            model,
            self.name,
        )
        ctx.usage = Usage(prompt_tokens=response.prompt_tokens)
        return response

    async def check(self) -> bool:
        return await self._transport.check()
