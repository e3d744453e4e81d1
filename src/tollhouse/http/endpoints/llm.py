"""The LLM endpoints: chat completions (JSON and SSE) and embeddings."""

from __future__ import annotations

import asyncio

import orjson

from tollhouse.config.runtime import Runtime
from tollhouse.dialects.openai.encode import encode_chat, encode_embeddings
from tollhouse.errors import TollhouseError, UnknownModel
from tollhouse.http.endpoints.stream import send_stream
from tollhouse.http.responses import Send, send_bytes, send_error
from tollhouse.model.chat import ChatResponse
from tollhouse.model.embeddings import EmbeddingResponse
from tollhouse.pipeline.chain import Chain
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Deny
from tollhouse.providers.protocol import Provider


async def handle(runtime: Runtime, ctx: RequestContext, send: Send) -> None:
    """Run one LLM call through the checkpoint and the provider; errors raise to the app."""
    chain = runtime.chains[ctx.surface]
    outcome, reached = await chain.enter(ctx)
    try:
        if isinstance(outcome, Deny):
            await send_error(send, ctx, outcome.error, runtime.redactor)
            return
        if outcome is not None:
            await send_bytes(send, ctx, outcome.status, outcome.body, outcome.content_type)
            return
        route = runtime.routes.get(ctx.model)
        if route is None:
            raise UnknownModel(
                f"The model `{ctx.model}` does not exist or you do not have access to it.", param="model"
            )
        ctx.provider, ctx.upstream_model = route.provider.name, route.upstream_model
        try:
            await _call(runtime, ctx, send, route.provider, chain, reached)
        except asyncio.CancelledError:
            if ctx.inflight is not None and ctx.inflight.consume_client_gone():  # nothing to send
                ctx.status = ctx.status or 499
                ctx.error_code = "client_closed"
                return
            raise
        finally:
            route.charge(ctx)  # cost from whatever usage was reported, before the exits settle it
    finally:
        await chain.exit(ctx, reached)


async def _call(
    runtime: Runtime, ctx: RequestContext, send: Send, provider: Provider, chain: Chain, reached: int
) -> None:
    model = ctx.upstream_model
    if ctx.stream and ctx.surface == "chat":
        items = provider.chat_stream(ctx, model)

        async def before_end() -> TollhouseError | None:
            if not chain.inspects_responses(reached):
                return None
            outcome = await chain.respond(ctx, reached)
            return outcome.error if isinstance(outcome, Deny) else None

        try:
            await send_stream(send, ctx, items, runtime.redactor, before_end)
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
    if chain.inspects_responses(reached):
        outcome = await chain.respond(ctx, reached)
        if isinstance(outcome, Deny):
            await send_error(send, ctx, outcome.error, runtime.redactor)
            return
    await send_bytes(send, ctx, 200, ctx.response_body)
