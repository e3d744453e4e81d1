"""The Gemini provider (Google AI ``generativelanguage`` API) and its Vertex AI variant."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator, Mapping
from contextlib import aclosing

import orjson

from tollhouse.config.schema import ProviderConfig
from tollhouse.config.secrets import Secret
from tollhouse.dialects.openai.decode import decode_embeddings
from tollhouse.model.chat import Usage
from tollhouse.model.embeddings import EmbeddingResponse
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.gemini.embeddings import build_batch, build_predict, decode_batch, decode_predict
from tollhouse.providers.gemini.errors import map_error
from tollhouse.providers.gemini.request import build_request
from tollhouse.providers.gemini.response import decode_response
from tollhouse.providers.gemini.service_account import AccessTokens, ServiceAccountKey
from tollhouse.providers.gemini.stream import StreamDecoder
from tollhouse.providers.protocol import ChatResult, EmbedResult, StreamItem
from tollhouse.providers.transport import Transport
from tollhouse.upstream.pool import UpstreamPool

GEMINI_URL = "https://generativelanguage.googleapis.com/v1beta"


class GeminiProvider:
    """Gemini through ``models/{model}:generateContent``; the key goes in ``x-goog-api-key``."""

    def __init__(self, name: str, config: ProviderConfig, api_key: Secret | None, pool: UpstreamPool) -> None:
        self.name = name
        self._base = self._base_url(config)
        self._transport = Transport(name, self._base, config, pool, map_error)
        self._headers = {"content-type": "application/json", **self._auth(api_key), **config.headers}

    def _base_url(self, config: ProviderConfig) -> str:
        return config.base_url or GEMINI_URL

    def _auth(self, api_key: Secret | None) -> dict[str, str]:
        return {"x-goog-api-key": api_key.reveal()} if api_key is not None else {}

    def rekey(self, api_key: Secret) -> None:
        """Send ``api_key`` from now on (a rotated vault credential): one reference swap."""
        self._headers = {**self._headers, **self._auth(api_key)}

    def _url(self, model: str, method: str) -> str:
        return f"{self._base}/models/{model}:{method}"

    async def _call_headers(self) -> Mapping[str, str]:
        """The headers of one call (Vertex AI adds a fresh access token)."""
        return self._headers

    async def chat(self, ctx: RequestContext, model: str) -> ChatResult:
        request = ctx.chat_request()
        body = orjson.dumps(build_request(request))
        parsed = await self._transport.call_json(
            self._url(model, "generateContent"), body, await self._call_headers(), ctx
        )
        response = decode_response(parsed, model, int(time.time()), self.name)
        ctx.usage = response.usage
        return response

    async def chat_stream(self, ctx: RequestContext, model: str) -> AsyncGenerator[StreamItem, None]:
        request = ctx.chat_request()
        body = orjson.dumps(build_request(request))
        url = self._url(model, "streamGenerateContent") + "?alt=sse"
        decoder = StreamDecoder(self.name, model, int(time.time()))
        headers = await self._call_headers()
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
        body = orjson.dumps(build_batch(request, model))
        parsed = await self._transport.call_json(
            self._url(model, "batchEmbedContents"), body, await self._call_headers(), ctx
        )
        response = decode_batch(parsed, request, model, self.name)
        ctx.usage = Usage(prompt_tokens=response.prompt_tokens)
        return response

    async def check(self) -> bool:
        return await self._transport.check()


class VertexProvider(GeminiProvider):
    """Gemini on Vertex AI: the same bodies under ``projects/{project}/locations/{region}``,
    authorised by an OAuth 2 access token: minted from a service-account key
    (``service_account``) and refreshed before it expires, or given (``api_key``) and sent as is."""

    def __init__(self, name: str, config: ProviderConfig, api_key: Secret | None, pool: UpstreamPool) -> None:
        super().__init__(name, config, api_key, pool)
        self._tokens: AccessTokens | None = None
        if config.service_account is not None:
            # config.api_key too: a vault: key is not resolved yet here (it arrives by rekey).
            if api_key is not None or config.api_key is not None:
                raise ValueError("kind vertex: set service_account or api_key (an access token), not both")
            key = ServiceAccountKey.parse(config.service_account.resolve().reveal())
            self._tokens = AccessTokens(key, pool, name, config.timeouts)

    async def _call_headers(self) -> Mapping[str, str]:
        if self._tokens is None:
            return self._headers
        return {**self._headers, "authorization": f"Bearer {await self._tokens.token()}"}

    def _base_url(self, config: ProviderConfig) -> str:
        if not config.project:
            raise ValueError("kind vertex needs `project` (the Google Cloud project id)")
        region = config.region or "global"
        host = config.base_url or (
            "https://aiplatform.googleapis.com"
            if region == "global"
            else f"https://{region}-aiplatform.googleapis.com"
        )
        return f"{host}/v1/projects/{config.project}/locations/{region}/publishers/google"

    def _auth(self, api_key: Secret | None) -> dict[str, str]:
        return {"authorization": f"Bearer {api_key.reveal()}"} if api_key is not None else {}

    async def embed(self, ctx: RequestContext, model: str) -> EmbedResult:
        request = decode_embeddings(ctx.payload)
        body = orjson.dumps(build_predict(request))
        parsed = await self._transport.call_json(
            self._url(model, "predict"), body, await self._call_headers(), ctx
        )
        response: EmbeddingResponse = decode_predict(parsed, request, model, self.name)
        ctx.usage = Usage(prompt_tokens=response.prompt_tokens)
        return response
