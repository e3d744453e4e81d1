"""The Bedrock provider: Converse / ConverseStream for chat, InvokeModel for embeddings."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncGenerator
from contextlib import aclosing
from urllib.parse import quote

import orjson

from tollhouse.config.schema import ProviderConfig
from tollhouse.config.secrets import Secret
from tollhouse.dialects.openai.decode import decode_embeddings
from tollhouse.model.chat import Usage
from tollhouse.model.embeddings import EmbeddingResponse
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.bedrock.embeddings import (
    cohere_body,
    decode_cohere,
    decode_titan,
    is_cohere,
    texts,
    titan_body,
)
from tollhouse.providers.bedrock.errors import map_error
from tollhouse.providers.bedrock.request import build_request, json_tool_name
from tollhouse.providers.bedrock.response import decode_converse
from tollhouse.providers.bedrock.signing import BedrockSigner
from tollhouse.providers.bedrock.stream import StreamDecoder
from tollhouse.providers.protocol import ChatResult, EmbedResult, StreamItem
from tollhouse.providers.transport import Transport
from tollhouse.upstream.pool import UpstreamPool

_JSON = {"content-type": "application/json", "accept": "application/json"}
_STREAM = {"content-type": "application/json", "accept": "application/vnd.amazon.eventstream"}


class BedrockProvider:
    """Models on AWS Bedrock in ``region``, requests signed with SigV4 (or a Bedrock API key)."""

    def __init__(self, name: str, config: ProviderConfig, api_key: Secret | None, pool: UpstreamPool) -> None:
        self.name = name
        if not config.region:
            raise ValueError("kind bedrock needs `region` (e.g. us-east-1)")
        base = config.base_url or f"https://bedrock-runtime.{config.region}.amazonaws.com"
        self._base = base
        self._signer = BedrockSigner(config, api_key, config.region)
        self._extra_headers = dict(config.headers)
        self._transport = Transport(name, base, config, pool, map_error)

    def _url(self, model: str, action: str) -> str:
        return f"{self._base}/model/{quote(model, safe='')}/{action}"

    def _headers(self, url: str, body: bytes, base: dict[str, str]) -> dict[str, str]:
        return self._signer.headers(url, body, {**base, **self._extra_headers})

    async def chat(self, ctx: RequestContext, model: str) -> ChatResult:
        request = ctx.chat_request()
        body = orjson.dumps(build_request(request))
        url = self._url(model, "converse")
        parsed = await self._transport.call_json(url, body, self._headers(url, body, _JSON), ctx)
        response = decode_converse(parsed, model, int(time.time()), json_tool_name(request.response_format))
        ctx.usage = response.usage
        return response

    async def chat_stream(self, ctx: RequestContext, model: str) -> AsyncGenerator[StreamItem, None]:
        request = ctx.chat_request()
        body = orjson.dumps(build_request(request))
        url = self._url(model, "converse-stream")
        decoder = StreamDecoder(self.name, model, int(time.time()), json_tool_name(request.response_format))
        headers = self._headers(url, body, _STREAM)
        try:
            async with aclosing(self._transport.stream(url, body, headers)) as chunks:
                async for data in chunks:
                    for event in decoder.feed(data):
                        yield event
            for event in decoder.finish(request):
                yield event
        finally:
            ctx.usage = decoder.usage

    async def embed(self, ctx: RequestContext, model: str) -> EmbedResult:
        request = decode_embeddings(ctx.payload)
        url = self._url(model, "invoke")
        if is_cohere(model):
            body = orjson.dumps(cohere_body(request))
            parsed = await self._transport.call_json(url, body, self._headers(url, body, _JSON), ctx)
            vectors, tokens = decode_cohere(parsed, request, self.name)
        else:  # Titan embeds one text per call: send them side by side
            bodies = [orjson.dumps(titan_body(text, request)) for text in texts(request)]
            answers = await asyncio.gather(
                *(self._transport.call_json(url, b, self._headers(url, b, _JSON), ctx) for b in bodies)
            )
            decoded = [decode_titan(a, self.name) for a in answers]
            vectors, tokens = tuple(v for v, _ in decoded), sum(t for _, t in decoded)
        ctx.usage = Usage(prompt_tokens=tokens)
        return EmbeddingResponse(model=model, vectors=vectors, prompt_tokens=tokens)

    async def check(self) -> bool:
        return await self._transport.check()
