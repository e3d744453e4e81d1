"""The OpenAI Responses surface: ``POST /v1/responses`` (stateless: nothing is stored).

Every provider is reached through the canonical model: ``ctx.chat_request()`` decodes the
Responses body, and canonical answers are encoded back as a ``response`` object or the
Responses event stream.
"""

from __future__ import annotations

import orjson

from tollhouse.config.runtime import Runtime
from tollhouse.dialects.openai_responses.decode import decode_responses
from tollhouse.dialects.openai_responses.encode import encode_response
from tollhouse.dialects.openai_responses.stream import ResponseStreamEncoder
from tollhouse.errors import UpstreamUnavailable
from tollhouse.http.endpoints.dialect_stream import send_dialect_stream
from tollhouse.http.endpoints.surface import before_end, run, send_answer
from tollhouse.http.responses import Send
from tollhouse.model.chat import ChatResponse
from tollhouse.pipeline.chain import Chain
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.protocol import Provider

DIALECT = "openai_responses"


async def handle(runtime: Runtime, ctx: RequestContext, send: Send) -> None:
    """``POST /v1/responses``: a response, as JSON or as the Responses event stream."""
    ctx.dialect = DIALECT
    ctx.decoder = decode_responses
    await run(runtime, ctx, send, _respond)


async def _respond(
    runtime: Runtime, ctx: RequestContext, send: Send, provider: Provider, chain: Chain, reached: int
) -> None:
    model = ctx.upstream_model
    if ctx.stream:
        items = provider.chat_stream(ctx, model)
        encoder = ResponseStreamEncoder(ctx.model, ctx.payload)
        try:
            await send_dialect_stream(
                send, ctx, items, runtime.redactor, before_end(chain, ctx, reached), encoder
            )
        finally:
            await items.aclose()  # releases the upstream connection whatever happened
        return
    result = await provider.chat(ctx, model)
    if not isinstance(result, ChatResponse):
        # A provider answered in its own wire format: only OpenAI-dialect callers can take that.
        raise UpstreamUnavailable(f"provider {provider.name} cannot answer in the Responses format")
    ctx.response_body = orjson.dumps(encode_response(result, ctx.payload))
    await send_answer(runtime, ctx, send, chain, reached)
