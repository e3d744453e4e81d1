"""The native Ollama provider: ``/api/chat`` (JSON or NDJSON stream) and ``/api/embed``."""

from __future__ import annotations

import time
from collections.abc import AsyncGenerator
from contextlib import aclosing

import orjson

from tollhouse.config.schema import ProviderConfig
from tollhouse.config.secrets import Secret
from tollhouse.dialects.openai.decode import decode_embeddings
from tollhouse.errors import InvalidRequest, UpstreamUnavailable
from tollhouse.model.chat import Usage
from tollhouse.model.embeddings import EmbeddingResponse
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.ollama.errors import map_error
from tollhouse.providers.ollama.request import build_request
from tollhouse.providers.ollama.response import decode_chat
from tollhouse.providers.ollama.stream import StreamDecoder
from tollhouse.providers.ollama.wire import EmbedRequest
from tollhouse.providers.protocol import ChatResult, EmbedResult, StreamItem
from tollhouse.providers.transport import Transport
from tollhouse.upstream.pool import UpstreamPool

BASE_URL = "http://127.0.0.1:11434"


class OllamaProvider:
    """A local (or remote) Ollama server; ``api_key``, when set, goes as a Bearer token
    (for Ollama behind an authenticating proxy, or Ollama's hosted API)."""

    def __init__(self, name: str, config: ProviderConfig, api_key: Secret | None, pool: UpstreamPool) -> None:
        self.name = name
        base = config.base_url or BASE_URL
        self._transport = Transport(name, base, config, pool, map_error)
        self._chat_url, self._embed_url = f"{base}/api/chat", f"{base}/api/embed"
        auth = {"authorization": f"Bearer {api_key.reveal()}"} if api_key is not None else {}
        self._headers = {"content-type": "application/json", **auth, **config.headers}

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
        try:
            async with aclosing(self._transport.stream(self._chat_url, body, self._headers)) as chunks:
                async for data in chunks:
                    for event in decoder.feed(data):
                        yield event
            for event in decoder.finish(request):
                yield event
        finally:
            ctx.usage = decoder.usage

    async def embed(self, ctx: RequestContext, model: str) -> EmbedResult:
        request = decode_embeddings(ctx.payload)
        if not all(isinstance(item, str) for item in request.inputs):
            raise InvalidRequest("Ollama embeddings take text, not token arrays", param="input")
        wire: EmbedRequest = {"model": model, "input": [str(t) for t in request.inputs]}
        if request.dimensions is not None:
            wire["dimensions"] = request.dimensions
        parsed = await self._transport.call_json(self._embed_url, orjson.dumps(wire), self._headers, ctx)
        vectors = parsed.get("embeddings")
        if not isinstance(vectors, list) or len(vectors) != len(request.inputs):
            raise UpstreamUnavailable(
                f"provider {self.name} returned embeddings that do not match the inputs"
            )
        tokens = parsed.get("prompt_eval_count")
        ctx.usage = Usage(prompt_tokens=tokens if isinstance(tokens, int) else 0)
        return EmbeddingResponse(
            model=model,
            vectors=tuple(tuple(float(v) for v in vec) for vec in vectors),
            prompt_tokens=ctx.usage.prompt_tokens,
        )

    async def check(self) -> bool:
        return await self._transport.check()
