"""An aiohttp app served on a loopback port from a background thread: the fakes' server scaffolding.

The app runs on its own event loop (``asyncio.run`` in a daemon thread), so sync tests, tests
running their own loop and the gateway under test all reach it over real HTTP.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiohttp import web


class AppThread:
    """Serves the app ``make_app()`` builds (on the server's own loop) at ``host``, on a free port.

    ``start()`` returns once the port is bound, or raises ``RuntimeError`` (chained to what
    failed) within 10 s; ``stop()`` ends the loop and joins the thread. ``on_stop`` runs on the
    loop after ``stop()`` is asked for and before the runner's cleanup, e.g. to cancel handlers
    that would otherwise hang shutdown. A stopped server can be started again, on a new port.
    """

    def __init__(
        self,
        make_app: Callable[[], web.Application],
        *,
        name: str,
        host: str = "127.0.0.1",
        handler_cancellation: bool = False,
        on_stop: Callable[[], None] | None = None,
    ) -> None:
        self.name = name
        self.host = host
        self.port = 0
        self.runner: web.AppRunner | None = None
        self._make_app = make_app
        self._handler_cancellation = handler_cancellation
        self._on_stop = on_stop
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    @property
    def origin(self) -> str:
        """``http://HOST:PORT`` of the running server."""
        return f"http://{self.host}:{self.port}"

    @property
    def running(self) -> bool:
        return self._thread is not None

    @property
    def open_connections(self) -> int:
        """Client connections the server holds open right now."""
        server = self.runner.server if self.runner is not None else None
        return len(server.connections) if server is not None else 0

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"{self.name} already started")
        self.port = 0
        self._error = None
        ready = threading.Event()
        self._thread = threading.Thread(target=self._main, args=(ready,), name=self.name, daemon=True)
        self._thread.start()
        if not ready.wait(10.0) or self._error is not None or not self.port:
            self.stop()
            raise RuntimeError(f"{self.name} failed to start") from self._error

    def stop(self) -> None:
        thread, loop, event = self._thread, self._loop, self._stop
        if thread is None:
            return
        if loop is not None and event is not None and not loop.is_closed():
            loop.call_soon_threadsafe(event.set)
        thread.join(10.0)
        self._thread = self._loop = self._stop = None

    def _main(self, ready: threading.Event) -> None:
        try:
            # asyncio.run also cancels leftovers and closes the loop: no resource warnings.
            asyncio.run(self._serve(ready))
        except BaseException as exc:
            self._error = exc
        finally:
            ready.set()

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        runner = self.runner = web.AppRunner(
            self._make_app(),
            handler_cancellation=self._handler_cancellation,
            access_log=None,
            shutdown_timeout=0.5,
        )
        await runner.setup()
        try:
            site = web.TCPSite(runner, self.host, 0)
            await site.start()
            self.port = int(runner.addresses[0][1])
            ready.set()
            await self._stop.wait()
            if self._on_stop is not None:
                self._on_stop()
        finally:
            await runner.cleanup()
