"""``GET /v1/models`` and ``GET /v1/models/{id}``: the aliases a caller may use, in its dialect.

A caller sees only the aliases it may invoke: a key scoped to some models lists those, and a
principal whom Cedar policies let invoke only some lists only those (a model it may not use
is answered ``404`` like one that does not exist, so the list reveals nothing the call would
not). Master keys list everything. Clients that send ``anthropic-version`` (the Anthropic
SDKs do, always) get Anthropic's shape — ``ModelInfo`` objects in pages with ``first_id``,
``last_id`` and ``has_more``, paged by ``limit``, ``after_id`` and ``before_id`` — and
everyone else OpenAI's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import orjson

from tollhouse.errors import UnknownModel
from tollhouse.http.responses import Send, send_bytes, send_error
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Deny
from tollhouse.routing.directory import ListedModel

if TYPE_CHECKING:
    from tollhouse.config.runtime import Runtime

# The surfaces a listed model can be called on: visible if the caller may use it on any.
LLM_SURFACES = ("chat", "messages", "responses", "embeddings")


def _permitted(runtime: Runtime, ctx: RequestContext) -> Callable[[ListedModel], bool] | None:
    """The test of whether the caller may use a model; None when it may use them all."""
    authorize, principal = runtime.authorize, ctx.principal
    if authorize is None or principal is None or authorize.unrestricted(principal):
        return None
    return lambda model: authorize.permits(principal, model.alias, LLM_SURFACES)


async def _answer(runtime: Runtime, ctx: RequestContext, send: Send, render: Callable[[], bytes]) -> None:
    """Authenticate the caller, then answer ``render()`` (which may raise the caller's error)."""
    if "anthropic-version" in ctx.headers:
        ctx.dialect = "anthropic"
    chain = runtime.chains["models"]
    outcome, reached = await chain.enter(ctx)
    try:
        if isinstance(outcome, Deny):
            await send_error(send, ctx, outcome.error, runtime.redactor)
        else:
            await send_bytes(send, ctx, 200, render())
    finally:
        await chain.exit(ctx, reached)


async def list_models(runtime: Runtime, ctx: RequestContext, send: Send, query: bytes = b"") -> None:
    """``GET /v1/models``."""

    def render() -> bytes:
        directory = runtime.models
        permitted = _permitted(runtime, ctx)
        visible = directory.models if permitted is None else [m for m in directory.models if permitted(m)]
        if ctx.dialect == "anthropic":
            return directory.anthropic_page(visible, query)
        return directory.openai_body if visible is directory.models else directory.openai_list(visible)

    await _answer(runtime, ctx, send, render)


async def get_model(runtime: Runtime, ctx: RequestContext, send: Send, model_id: str) -> None:
    """``GET /v1/models/{id}``: one model, or 404 when it does not exist or the caller may not use it."""

    def render() -> bytes:
        directory = runtime.models
        model, permitted = directory.get(model_id), _permitted(runtime, ctx)
        if model is None or (permitted is not None and not permitted(model)):
            message = f"The model `{model_id}` does not exist or you do not have access to it."
            raise UnknownModel(message, param="model")
        return orjson.dumps(
            directory.anthropic(model) if ctx.dialect == "anthropic" else directory.openai(model)
        )

    await _answer(runtime, ctx, send, render)
