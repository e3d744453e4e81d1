"""The Anthropic Messages surface: ``POST /v1/messages`` and ``POST /v1/messages/count_tokens``.

The caller's Anthropic body stays in ``ctx.payload`` (an Anthropic provider forwards it
natively); ``ctx.chat_request()`` decodes it to the canonical request for every other
provider, whose canonical answers are encoded back into Anthropic's shapes here.
"""

from __future__ import annotations

import orjson

from tollhouse.config.runtime import Runtime
from tollhouse.dialects.anthropic.decode import decode_messages
from tollhouse.dialects.anthropic.encode import encode_message
from tollhouse.dialects.anthropic.stream import MessageStreamEncoder
from tollhouse.errors import InvalidRequest
from tollhouse.http.endpoints.dialect_stream import send_dialect_stream
from tollhouse.http.endpoints.surface import before_end, run, send_answer
from tollhouse.http.responses import Send
from tollhouse.model.chat import ChatResponse
from tollhouse.pipeline.chain import Chain
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.protocol import Provider, TokenCounter

DIALECT = "anthropic"


async def handle(runtime: Runtime, ctx: RequestContext, send: Send) -> None:
    """``POST /v1/messages``: a message, as JSON or as Anthropic's event stream."""
    ctx.dialect = DIALECT
    ctx.decoder = decode_messages
    await run(runtime, ctx, send, _message)


async def _message(
    runtime: Runtime, ctx: RequestContext, send: Send, provider: Provider, chain: Chain, reached: int
) -> None:
    model = ctx.upstream_model
    if ctx.stream:
        items = provider.chat_stream(ctx, model)
        try:
            await send_dialect_stream(
                send,
                ctx,
                items,
                runtime.redactor,
                before_end(chain, ctx, reached),
                MessageStreamEncoder(ctx.model),
            )
        finally:
            await items.aclose()  # releases the upstream connection whatever happened
        return
    result = await provider.chat(ctx, model)
    ctx.response_body = (
        orjson.dumps(encode_message(result)) if isinstance(result, ChatResponse) else result.body
    )
    await send_answer(runtime, ctx, send, chain, reached)


async def count_tokens(runtime: Runtime, ctx: RequestContext, send: Send) -> None:
    """``POST /v1/messages/count_tokens``: answered by providers that can count (``TokenCounter``)."""
    ctx.dialect = DIALECT
    ctx.decoder = decode_messages
    await run(runtime, ctx, send, _count)


async def _count(
    runtime: Runtime, ctx: RequestContext, send: Send, provider: Provider, chain: Chain, reached: int
) -> None:
    if not isinstance(provider, TokenCounter):
        raise InvalidRequest(
            f"token counting is not available for model `{ctx.model}`: its provider cannot count tokens",
            param="model",
            code="count_tokens_unsupported",
        )
    tokens = await provider.count_tokens(ctx, ctx.upstream_model)
    ctx.response_body = orjson.dumps({"input_tokens": tokens})
    await send_answer(runtime, ctx, send, chain, reached)
