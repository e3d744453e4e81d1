"""A threaded aiohttp server on 127.0.0.1 for the native-provider fakes.

Each fake (``anthropic_upstream``, ``gemini_upstream``, …) adds its routes; this class serves
them on their own event loop in a background thread (``tests.support.app_thread``), records
every request (and the last scripted reply, whose token counts tests compare with the usage
callers see) and lets tests reset and inspect it, so sync tests and the gateway under test
both reach it over real HTTP.
"""

from __future__ import annotations

import threading
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import Any, Self

import orjson
from aiohttp import web

from tests.support.app_thread import AppThread

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
        self._server = AppThread(self._app, name=type(self).__name__)

    def routes(self, app: web.Application) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Self:
        self._server.start()
        self.port = self._server.port
        self.base_url = self._server.origin
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _app(self) -> web.Application:
        @web.middleware
        async def record(request: web.Request, handler: Handler) -> web.StreamResponse:
            rec = await RecordedRequest.read(request, request.raw_path.split("?")[0])
            with self._lock:
                self.requests.append(rec)
            return await handler(request)

        app = web.Application(middlewares=[record], client_max_size=64 * 1024 * 1024)
        self.routes(app)
        return app

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
