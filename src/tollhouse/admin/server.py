"""Serving the admin API beside the gateway: a second uvicorn server in the same event loop.

It is one of the runtime's observers, so the gateway's lifespan starts and stops it. Its
socket is bound with ``SO_REUSEPORT`` so that with several workers each one serves the
admin port too (the kernel spreads connections); every worker's services write to the same
database and announce changes the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Sequence
from typing import TYPE_CHECKING

import uvicorn
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.admin.app import build_admin_app
from tollhouse.admin.events import AdminEventSink, RecentEvents
from tollhouse.admin.services import AdminServices
from tollhouse.config.schema import GatewayConfig
from tollhouse.identity.change_feed import ChangeFeed
from tollhouse.identity.snapshot import IdentityState
from tollhouse.identity.vault import Vault
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.policy import Policy

if TYPE_CHECKING:
    from tollhouse.audit.admin_changes import AdminAudit

log = logging.getLogger("tollhouse.admin")


def admin_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if hasattr(socket, "SO_REUSEPORT"):
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind((host, port))
    sock.set_inheritable(True)
    return sock


class AdminServer:
    """Starts the admin API with the gateway and stops it before the gateway's pools close."""

    def __init__(
        self,
        config: GatewayConfig,
        state: IdentityState,
        front: Sequence[Policy],
        engine: AsyncEngine,
        feed: ChangeFeed,
        vault: Vault | None,
        sink: AdminEventSink | None = None,
        audit: AdminAudit | None = None,
    ) -> None:
        self._host, self._port = config.admin.host, config.admin.port
        self._log_level = config.logging.level
        policies = [(p.id, p.text) for p in config.authorization.policies]
        if sink is None:  # every change also goes into the audit chain when audit is on
            sink = RecentEvents(forward=(audit.recorder,) if audit else ())
        self.services = AdminServices(
            engine,
            sink,
            feed,
            vault,
            policies,
            config.authorization.users_default,
            audit.service if audit else None,
        )
        self._app = build_admin_app(self.services, state, front)
        self._server: uvicorn.Server | None = None
        self._task: asyncio.Task[None] | None = None

    def observe(self, ctx: RequestContext) -> None:
        return None

    async def start(self) -> None:
        sock = admin_socket(self._host, self._port)
        config = uvicorn.Config(
            self._app,
            lifespan="off",
            access_log=False,
            log_config=None,  # keep the gateway's (secret-scrubbing) logging as it is
            log_level=self._log_level,
            timeout_graceful_shutdown=5,
        )
        self._server = uvicorn.Server(config)
        # `_serve` rather than `serve`: the gateway's server owns the process's signal handlers.
        self._task = asyncio.create_task(self._server._serve([sock]), name="admin-api")
        for _ in range(500):
            if self._server.started or self._task.done():
                break
            await asyncio.sleep(0.01)
        if self._task.done():
            self._task.result()  # raises why it could not start
        log.info("admin API on http://%s:%d", self._host, self._port)

    async def stop(self) -> None:
        if self._server is None or self._task is None:
            return
        self._server.should_exit = True
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._server = None
        self._task = None
        if self.services.audit is not None:
            await self.services.audit.engine.dispose()
