"""The compiled MCP gateway: upstream links and catalogs, routes, sessions, and the checks
every message passes. One per runtime; it is a runtime observer, so the app's lifespan
starts and stops the upstream connections and background tasks."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Protocol

from tollhouse.audit.trail import AuditTrail
from tollhouse.background import stop_task
from tollhouse.mcp.authorize import Authorizer
from tollhouse.mcp.call import McpRoute
from tollhouse.mcp.catalog import ServerCatalog
from tollhouse.mcp.config import McpConfig
from tollhouse.mcp.held import HeldCalls
from tollhouse.mcp.protocol import Message
from tollhouse.mcp.sessions import Sessions
from tollhouse.mcp.subscriptions import Subscriptions
from tollhouse.mcp.upstream.link import Link
from tollhouse.pipeline.chain import Chain
from tollhouse.pipeline.context import RequestContext

if TYPE_CHECKING:
    from tollhouse.mcp.approvals import Approvals
    from tollhouse.mcp.guarding import ToolGuards
    from tollhouse.mcp.limits import ToolLimits
    from tollhouse.mcp.pins import PinGate

log = logging.getLogger("tollhouse.mcp")


class Background(Protocol):
    """A part with its own background work (approvals watcher, pin refresher)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class McpGateway:
    """Everything the MCP endpoint needs, built once from the config."""

    def __init__(
        self,
        config: McpConfig,
        links: Mapping[str, Link],
        catalogs: Mapping[str, ServerCatalog],
        routes: Mapping[str, McpRoute],
        auth: Chain,
        authorizer: Authorizer,
        trail: AuditTrail | None,
    ) -> None:
        self.config = config
        self.links = links
        self.catalogs = catalogs
        self.routes = routes
        self.auth = auth
        self.authorizer = authorizer
        self.trail = trail
        self.sessions = Sessions(config.session_idle_s, on_close=self._session_ended)
        self.subscriptions = Subscriptions()
        self._unsubscribing: set[asyncio.Task[None]] = set()
        self.held = HeldCalls()  # 2026-07-28 calls waiting for their callers' answers
        self.pins: PinGate | None = None
        self.guards: ToolGuards | None = None
        self.approvals: Approvals | None = None
        self.limits: ToolLimits | None = None
        self.exchanging = False  # some server gets callers' exchanged tokens (RFC 8693)
        self.background: list[Background] = []
        self._sweeper: asyncio.Task[None] | None = None

    # ------------------------------------------------------------ Observer

    def observe(self, ctx: RequestContext) -> None:
        return None

    async def start(self) -> None:
        for part in self.background:  # vault credentials and pins first: the links need them
            await part.start()
        for link in self.links.values():
            await link.start()
        self._sweeper = asyncio.create_task(self._sweep(), name="mcp-sessions")

    async def stop(self) -> None:
        self.held.close()
        await stop_task(self._sweeper)
        for part in reversed(self.background):
            try:
                await part.stop()
            except Exception:
                log.exception("MCP background part failed to stop")
        for link in self.links.values():
            try:
                await link.close()
            except Exception:
                log.exception("MCP server %s failed to close", link.name)
        if self.sessions.shared is not None:
            await self.sessions.shared.close()
        if self.limits is not None:
            await self.limits.close()

    def resource_updated(self, server: str, message: Message) -> None:
        """An upstream's ``notifications/resources/updated``: to the sessions following it."""
        self.subscriptions.deliver(server, message, self.sessions.push)

    def _session_ended(self, session_id: str) -> None:
        for server, uri in self.subscriptions.drop_session(session_id):
            task = asyncio.get_running_loop().create_task(self._unsubscribe(server, uri))
            self._unsubscribing.add(task)
            task.add_done_callback(self._unsubscribing.discard)

    async def _unsubscribe(self, server: str, uri: str) -> None:
        try:
            await self.links[server].request("resources/unsubscribe", {"uri": uri})
        except Exception as exc:  # the upstream forgets it with our session anyway
            log.warning("MCP server %s: unsubscribe failed: %s", server, type(exc).__name__)

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(min(60.0, self.config.session_idle_s))
            self.sessions.sweep()
