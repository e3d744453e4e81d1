"""A threaded aiohttp server on 127.0.0.1 for the native-provider fakes.

Each fake (``anthropic_upstream``, ``gemini_upstream``, …) adds its routes; this class runs
them on their own event loop in a background thread, records every request (and the last
scripted reply, whose token counts tests compare with the usage callers see) and lets tests
reset and inspect it, so sync tests and the gateway under test both reach it over real HTTP.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

import orjson
from aiohttp import web

from .openai_upstream import RecordedRequest
from .scripted_reply import Plan

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class LoopbackServer:
    """Subclasses implement ``routes(app)``; ``base_url`` is ``http://127.0.0.1:PORT``."""

    def __init__(self) -> None:
        self.port = 0
        self.base_url = ""
        self.requests: list[RecordedRequest] = []
        self.last_plan: Plan | None = None  # the last answer a scripted fake decided on
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._main, args=(ready,), name=type(self).__name__, daemon=True
        )
        self._thread.start()
        if not ready.wait(10.0) or self._error is not None:
            raise RuntimeError(f"{type(self).__name__} failed to start") from self._error
        return self

    def stop(self) -> None:
        if self._thread is None:
            return
        if self._loop is not None and self._stop is not None and not self._loop.is_closed():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(10.0)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _main(self, ready: threading.Event) -> None:
        try:
            asyncio.run(self._serve(ready))
        except BaseException as exc:
            self._error = exc
        finally:
            ready.set()

    async def _serve(self, ready: threading.Event) -> None:
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()

        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            raw = await request.read()
            try:
                parsed: Any = orjson.loads(raw) if raw else None
            except orjson.JSONDecodeError:
                parsed = None
            rec = RecordedRequest(
                method=request.method,
                path=request.raw_path.split("?")[0],
                headers={k.lower(): v for k, v in request.headers.items()},
                json=parsed,
                body=raw,
                query=dict(request.query),
            )
            with self._lock:
                self.requests.append(rec)
            return await handler(request)

        app = web.Application(middlewares=[record], client_max_size=64 * 1024 * 1024)
        self.routes(app)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            self.port = int(runner.addresses[0][1])
            self.base_url = f"http://127.0.0.1:{self.port}"
            ready.set()
            await self._stop.wait()
        finally:
            await runner.cleanup()

    # ------------------------------------------------------------------ test helpers

    def reset(self) -> None:
        with self._lock:
            self.requests.clear()
            self.last_plan = None

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self.requests[-1]


def json_response(data: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return web.Response(
        body=orjson.dumps(data), status=status, content_type="application/json", headers=headers
    )
