"""A fault-injecting OpenAI-compatible upstream, for the routing and reliability tests.

Each upstream model name follows a *script*: the behaviours its next calls show, in order
(after the script runs out: ``ok``). Answers reuse the OpenAI fake's pure builders, so a
healthy call looks exactly like OpenAI's. Behaviours:

    ok            a normal answer (JSON, or SSE ending in ``data: [DONE]``)
    500 503 400   that status in OpenAI's error envelope
    429 / 429:N   rate limited, with ``retry-after: N`` when given
    context       400 ``context_length_exceeded``          filter   400 ``content_filter``
    hang          no headers for ``hang_s`` seconds         slow:S   answer after S seconds
    garbage       200 ``application/json`` whose body is not JSON
    stall         stream: two events, then nothing for ``hang_s`` (non-stream: hang)
    reset         stream: two events, then a TCP reset (non-stream: reset before any answer)
    truncate      stream: two events, then a clean end without ``[DONE]``
                  (non-stream: a body cut short of its Content-Length)
    empty         stream: 200 and no events at all

The server counts its open connections and running handlers, so tests can check that the
gateway leaks neither.
"""

from __future__ import annotations

import asyncio
import socket
import struct
import threading
import time
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Any, Self

import orjson
from aiohttp import web

from tests.support.app_thread import AppThread

from .openai_chat import completion_json, plan_chat, stream_chunks
from .openai_payloads import embeddings_json

_ERRORS: dict[str, tuple[int, str, str | None]] = {
    "500": (500, "server_error", None),
    "503": (503, "server_error", None),
    "400": (400, "invalid_request_error", None),
    "context": (400, "invalid_request_error", "context_length_exceeded"),
    "filter": (400, "invalid_request_error", "content_filter"),
}


class FaultyUpstream:
    """Use as ``with FaultyUpstream() as up:``; ``up.script("m", "500", "ok")`` before calling."""

    def __init__(self, hang_s: float = 30.0) -> None:
        self.hang_s = hang_s
        self.base_url = ""
        self.calls: list[str] = []  # the model of every request, in arrival order
        self.active = 0  # handlers running right now
        self._scripts: dict[str, deque[str]] = {}
        self._lock = threading.Lock()
        self._server = AppThread(self._app, name="FaultyUpstream", handler_cancellation=True)

    # ------------------------------------------------------------------ test side

    def script(self, model: str, *behaviours: str) -> None:
        with self._lock:
            self._scripts[model] = deque(behaviours)

    def reset(self) -> None:
        with self._lock:
            self._scripts.clear()
            self.calls.clear()

    def count(self, model: str) -> int:
        with self._lock:
            return self.calls.count(model)

    @property
    def open_connections(self) -> int:
        return self._server.open_connections

    def wait_until(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def _next(self, model: str) -> str:
        with self._lock:
            self.calls.append(model)
            queue = self._scripts.get(model)
            return queue.popleft() if queue else "ok"

    # ------------------------------------------------------------------ lifecycle

    def __enter__(self) -> Self:
        self._server.start()
        self.base_url = self._server.origin + "/v1"
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.stop()

    def _app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        return app

    # ------------------------------------------------------------------ server side

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        behaviour = self._next(str(body.get("model")))
        self.active += 1
        try:
            if body.get("stream") is True:
                return await self._stream(request, body, behaviour)
            return await self._answer(request, behaviour, lambda: completion_json(plan_chat(body, 1)))
        finally:
            self.active -= 1

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        behaviour = self._next(str(body.get("model")))
        self.active += 1
        try:
            return await self._answer(request, behaviour, lambda: embeddings_json(body))
        finally:
            self.active -= 1

    async def _common(self, request: web.Request, behaviour: str) -> web.StreamResponse | None:
        """Behaviours that look the same for JSON and streams; ``None`` for the rest."""
        name, _, arg = behaviour.partition(":")
        if name in _ERRORS or name == "429":
            return _error(name, arg)
        if name in ("hang", "stall"):
            await asyncio.sleep(self.hang_s)
        elif name == "slow":
            await asyncio.sleep(float(arg))
        elif name == "garbage":
            return web.Response(body=b"{not json at all", content_type="application/json")
        return None

    async def _answer(
        self, request: web.Request, behaviour: str, build: Callable[[], Any]
    ) -> web.StreamResponse:
        if (done := await self._common(request, behaviour)) is not None:
            return done
        if behaviour == "reset":
            _reset(request)
            return web.Response()
        body = orjson.dumps(build())
        if behaviour == "truncate":
            resp = web.StreamResponse(headers={"Content-Type": "application/json"})
            resp.content_length = len(body)
            await resp.prepare(request)
            await resp.write(body[: len(body) // 2])
            _reset(request)
            return resp
        return web.Response(body=body, content_type="application/json")

    async def _stream(self, request: web.Request, body: dict[str, Any], behaviour: str) -> web.StreamResponse:
        if behaviour != "stall" and (done := await self._common(request, behaviour)) is not None:
            return done
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        chunks = stream_chunks(plan_chat(body, 1), include_usage)
        resp = web.StreamResponse(headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"})
        await resp.prepare(request)
        if behaviour == "empty":
            await resp.write_eof()
            return resp
        broken = behaviour in ("stall", "reset", "truncate")
        for i, chunk in enumerate(chunks):
            if broken and i == 2:
                if behaviour == "stall":
                    await asyncio.sleep(self.hang_s)
                elif behaviour == "reset":
                    _reset(request)
                    return resp
                await resp.write_eof()
                return resp
            await resp.write(b"data: " + orjson.dumps(chunk) + b"\n\n")
        await resp.write(b"data: [DONE]\n\n")
        await resp.write_eof()
        return resp


def _error(name: str, arg: str) -> web.Response:
    if name == "429":
        headers = {"retry-after": arg} if arg else {}
        status, type_, code = 429, "rate_limit_error", "rate_limit_exceeded"
    else:
        headers = {}
        status, type_, code = _ERRORS[name]
    message = {
        "context": "This model's maximum context length is 8192 tokens.",
        "filter": "The response was filtered due to the prompt triggering the content management policy.",
    }.get(name, f"injected {name}")
    envelope = {"error": {"message": message, "type": type_, "param": None, "code": code}}
    return web.Response(
        status=status, body=orjson.dumps(envelope), content_type="application/json", headers=headers
    )


def _reset(request: web.Request) -> None:
    """Close the connection with a TCP RST (SO_LINGER 0), as a crashed upstream does."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()
