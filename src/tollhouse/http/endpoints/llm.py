"""The LLM endpoints: chat completions (JSON and SSE) and embeddings."""

from __future__ import annotations

import orjson

from tollhouse.config.runtime import Runtime
from tollhouse.dialects.openai.encode import encode_chat, encode_embeddings
from tollhouse.http.endpoints import surface
from tollhouse.http.endpoints.stream import send_stream
from tollhouse.http.responses import Send
from tollhouse.model.chat import ChatResponse
from tollhouse.model.embeddings import EmbeddingResponse
from tollhouse.pipeline.chain import Chain
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.protocol import Provider


async def handle(runtime: Runtime, ctx: RequestContext, send: Send) -> None:
    """Run one LLM call through the checkpoint and the provider; errors raise to the app."""
    await surface.run(runtime, ctx, send, _call)


async def _call(
    runtime: Runtime, ctx: RequestContext, send: Send, provider: Provider, chain: Chain, reached: int
) -> None:
    model = ctx.upstream_model
    if ctx.stream and ctx.surface == "chat":
        items = provider.chat_stream(ctx, model)
        try:
            end = surface.before_end(chain, ctx, reached)
            await send_stream(send, ctx, items, runtime.redactor, end)
        finally:
            await items.aclose()  # releases the upstream connection whatever happened
        return
    if ctx.surface == "embeddings":
        embedded = await provider.embed(ctx, model)
        if isinstance(embedded, EmbeddingResponse):
            fmt = ctx.payload.get("encoding_format") or "float"
            ctx.response_body = orjson.dumps(encode_embeddings(embedded, fmt))
        else:
            ctx.response_body = embedded.body
    else:
        result = await provider.chat(ctx, model)
        ctx.response_body = (
            orjson.dumps(encode_chat(result)) if isinstance(result, ChatResponse) else result.body
        )
    await surface.send_answer(runtime, ctx, send, chain, reached)
