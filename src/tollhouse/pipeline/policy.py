"""The policy contract: a class implementing only the hooks it needs."""

from __future__ import annotations

from typing import ClassVar

from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Outcome
from tollhouse.pipeline.phases import CallKind, Phase


class Policy:
    """Base for checkpoint policies.

    ``enter`` runs before the call, in phase order; returning an outcome ends the call there.
    ``on_response`` runs once the provider has answered, in reverse order, before the caller
    gets the end of the answer: for a JSON response before anything is sent
    (``ctx.response_body`` holds it), for a stream before its final event. Returning ``Deny``
    replaces the answer with the error (an SSE error event for a stream).
    ``exit`` runs after the call (or after a denial) for every policy whose ``enter`` ran,
    in reverse order, so whatever a policy holds (a reservation, a slot) is always released.
    The chain skips hooks a subclass does not override, so an unused hook costs nothing.
    """

    name: ClassVar[str] = "policy"
    phase: ClassVar[Phase]
    kinds: ClassVar[frozenset[CallKind]] = frozenset(CallKind)

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        return None

    async def on_response(self, ctx: RequestContext) -> Outcome | None:
        return None

    async def exit(self, ctx: RequestContext) -> None:
        return None
