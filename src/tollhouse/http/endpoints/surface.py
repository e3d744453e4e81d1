"""The call flow shared by the canonical surfaces (Anthropic Messages, OpenAI Responses).

``run`` is the checkpoint around one call: enter the chain, answer a ``Deny`` or ``Reply``,
resolve the model's route, watch for the client leaving, hand over to the surface's ``call``,
and run the exits whatever happened. Errors raise to the app's boundary, which renders them
in the envelope of ``ctx.dialect``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from tollhouse.config.runtime import Runtime
from tollhouse.errors import TollhouseError, UnknownModel
from tollhouse.http.responses import Send, send_bytes, send_error
from tollhouse.pipeline.chain import Chain
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Deny
from tollhouse.providers.protocol import Provider

Call = Callable[[Runtime, RequestContext, Send, Provider, Chain, int], Awaitable[None]]
BeforeEnd = Callable[[], Awaitable[TollhouseError | None]]


async def run(runtime: Runtime, ctx: RequestContext, send: Send, call: Call) -> None:
    """One call through the checkpoint to ``call``; see the module docstring."""
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
            await call(runtime, ctx, send, route.provider, chain, reached)
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


def before_end(chain: Chain, ctx: RequestContext, reached: int) -> BeforeEnd | None:
    """The ``on_response`` hooks, run before a stream's final event; a denial's error is
    returned. ``None`` when no entered policy has one: the stream may end without a pause."""
    if not chain.inspects_responses(reached):
        return None

    async def hook() -> TollhouseError | None:
        outcome = await chain.respond(ctx, reached)
        return outcome.error if isinstance(outcome, Deny) else None

    return hook


async def send_answer(runtime: Runtime, ctx: RequestContext, send: Send, chain: Chain, reached: int) -> None:
    """Send ``ctx.response_body`` after the ``on_response`` hooks (a denial replaces it)."""
    if chain.inspects_responses(reached):
        outcome = await chain.respond(ctx, reached)
        if isinstance(outcome, Deny):
            await send_error(send, ctx, outcome.error, runtime.redactor)
            return
    assert ctx.response_body is not None
    await send_bytes(send, ctx, 200, ctx.response_body)
