"""The compiled runtime: one frozen object holding everything a request needs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from tollhouse.catalog.pricing import Price
from tollhouse.config.schema import GatewayConfig
from tollhouse.identity.snapshot import IdentityState
from tollhouse.observability.metrics import Metrics
from tollhouse.observability.redact import Redactor
from tollhouse.pipeline.chain import Chain
from tollhouse.pipeline.context import RequestContext
from tollhouse.providers.protocol import Provider
from tollhouse.upstream.pool import UpstreamPool

if TYPE_CHECKING:
    from tollhouse.mcp.gateway import McpGateway
    from tollhouse.policies.authorize import Authorize
    from tollhouse.routing.directory import ModelDirectory


class Observer(Protocol):
    """Sees every finished request (after the last byte): metrics, audit, usage ledgers.

    ``observe`` runs on the event loop for every request, so it only enqueues; any I/O
    happens in the observer's own background task, started and stopped with the app.
    """

    def observe(self, ctx: RequestContext) -> None: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Route:
    """A model alias resolved: the provider instance and the model name it is sent as."""

    alias: str
    provider: Provider
    upstream_model: str
    # Per million tokens: the route's `price`, else the model catalog's (routed: the dearest target's).
    price: Price | None = None

    def charge(self, ctx: RequestContext) -> None:
        """Set ``ctx.cost`` from the usage the provider reported (streams included), at the
        price of the target that answered when a router chose it."""
        price = self.price if ctx.routing is None else ctx.routing.price
        if price is not None and ctx.usage is not None:
            ctx.cost = price.cost(ctx.usage)


@dataclass(frozen=True, slots=True)
class Runtime:
    """Built once from the config by ``compile_config``; swapped whole on reload."""

    config: GatewayConfig
    routes: Mapping[str, Route]
    providers: Mapping[str, Provider]
    chains: Mapping[str, Chain]  # by surface
    metrics: Metrics
    redactor: Redactor
    pool: UpstreamPool
    models: ModelDirectory  # what GET /v1/models lists
    observers: tuple[Observer, ...] = ()
    identity: IdentityState | None = None  # keys, principals and policies; swapped on change
    mcp: McpGateway | None = None  # the MCP gateway, when `mcp.routes` are configured
    authorize: Authorize | None = None  # who may use which model, when callers are authorized
