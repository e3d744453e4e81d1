"""A local fake of the OpenAI HTTP API: the network-boundary fake for integration tests.

The server runs on 127.0.0.1 (free port) in a background thread with its own event loop, so
sync tests and tests that run their own asyncio loop can both talk to it over real HTTP.
Behaviour is deterministic; misbehaviour is chosen per request through the model name
(see ``FakeOpenAI`` for the list).
"""

from __future__ import annotations

import asyncio
import contextvars
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from types import TracebackType
from typing import Any

import orjson
from aiohttp import web

from tests.support.app_thread import AppThread

from .openai_chat import completion_json, plan_chat, stream_chunks, validate_chat
from .openai_payloads import (
    GARBAGE_BODY,
    INJECTED_ERRORS,
    MODELS,
    ApiError,
    bad_key_error,
    embeddings_json,
    model_json,
    models_json,
    no_key_error,
)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@dataclass
class RecordedRequest:
    """One request as received; appended before any handling, errors included."""

    method: str
    path: str
    headers: dict[str, str]  # lower-case names; a repeated header keeps its last value
    json: Any  # parsed body, None when empty or not JSON
    body: bytes
    query: dict[str, str]
    cancelled: bool = False  # the handler was interrupted because the peer went away

    @classmethod
    async def read(cls, request: web.Request, path: str) -> RecordedRequest:
        """``request`` with its whole body read; ``path`` as the fake wants it (raw or decoded)."""
        raw = await request.read()
        try:
            parsed: Any = orjson.loads(raw) if raw else None
        except orjson.JSONDecodeError:
            parsed = None
        headers = {k.lower(): v for k, v in request.headers.items()}
        return cls(request.method, path, headers, json=parsed, body=raw, query=dict(request.query))


@dataclass
class _Call:
    """Per-request state; kept in a ContextVar rather than request storage (which warns)."""

    rec: RecordedRequest
    seq: int
    dropped: bool = False


_CALL: contextvars.ContextVar[_Call] = contextvars.ContextVar("fake_openai_call")


class FakeOpenAI:
    """Fake OpenAI upstream. Use as ``with FakeOpenAI() as fake:`` or ``start()``/``stop()``.

    Special model names (chat and embeddings): ``error-400|401|404|429|500|503`` answer
    that error (429 carries ``retry-after: 2``); ``slow-N`` sleeps N seconds (float ok)
    before the headers; ``hang-stream`` streams the role chunk and the first content
    delta, then stalls ``hang_s`` seconds (non-stream: stalls before the headers);
    ``garbage`` answers 200 ``application/json`` with a non-JSON body; ``drop`` closes
    the connection without any response.
    """

    def __init__(
        self,
        *,
        require_key: str | None = None,
        chunk_delay_s: float = 0.0,
        hang_s: float = 30.0,
        host: str = "127.0.0.1",
    ) -> None:
        self.require_key = require_key
        self.chunk_delay_s = chunk_delay_s
        self.hang_s = hang_s
        self.host = host
        self.port = 0
        self.origin = ""  # "http://127.0.0.1:PORT"
        self.base_url = ""  # origin + "/v1", what an OpenAI client's base_url wants
        self.requests: list[RecordedRequest] = []
        self.cancelled = 0  # requests whose handler saw the peer disconnect
        self.in_flight = 0  # handlers currently running
        self._lock = threading.Lock()
        self._request_seq = 0
        self._chat_seq = 0
        self._tasks: set[asyncio.Task[Any]] = set()
        self._stopping = False
        # handler_cancellation: a client disconnect cancels the handler at once, which is
        # what lets tests observe "the gateway cancelled its upstream request".
        self._server = AppThread(
            self._make_app,
            name="FakeOpenAI",
            host=host,
            handler_cancellation=True,
            on_stop=self._cancel_handlers,
        )

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> FakeOpenAI:
        if self._server.running:
            raise RuntimeError("FakeOpenAI already started")
        self._stopping = False
        self._server.start()
        self.port = self._server.port
        self.origin = self._server.origin
        self.base_url = self.origin + "/v1"
        return self

    def stop(self) -> None:
        if not self._server.running:
            return
        self._stopping = True  # cancellations from here on are ours, not the peer's
        self._server.stop()

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _cancel_handlers(self) -> None:
        # Runs on the server's loop at shutdown: a hanging handler must not hold the stop up.
        for task in list(self._tasks):
            task.cancel()

    # ------------------------------------------------------------------ test helpers

    def reset(self) -> None:
        """Forget recorded requests and counters; ids restart at 1."""
        with self._lock:
            self.requests.clear()
            self.cancelled = 0
            self._request_seq = 0
            self._chat_seq = 0

    def set_delay(self, chunk_delay_s: float) -> None:
        """Delay between streamed chunks, for tests that need time to act mid-stream."""
        self.chunk_delay_s = chunk_delay_s

    @property
    def last_request(self) -> RecordedRequest:
        with self._lock:
            return self.requests[-1]

    def wait_until(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
        """Poll ``predicate`` (e.g. ``lambda: fake.cancelled == 1``) from a sync test."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    async def wait_until_async(self, predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
        """Same as ``wait_until`` without blocking the caller's event loop."""
        deadline = time.monotonic() + timeout_s
        while not predicate():
            if time.monotonic() > deadline:
                return False
            await asyncio.sleep(0.01)
        return True

    # ------------------------------------------------------------------ server side

    def _make_app(self) -> web.Application:
        @web.middleware
        async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
            return await self._around(request, handler)

        app = web.Application(middlewares=[middleware], client_max_size=64 * 1024 * 1024)
        app.router.add_post("/v1/chat/completions", self._chat)
        app.router.add_post("/v1/embeddings", self._embeddings)
        app.router.add_get("/v1/models", self._models)
        app.router.add_get("/v1/models/{model}", self._model)
        app.router.add_route("*", "/{tail:.*}", self._unknown)
        return app

    async def _around(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        """Record, authenticate, map ApiError to the OpenAI envelope, track cancellation."""
        rec = await RecordedRequest.read(request, request.path)
        task = asyncio.current_task()
        with self._lock:
            self.requests.append(rec)
            self._request_seq += 1
            self.in_flight += 1
            call = _Call(rec, self._request_seq)
        _CALL.set(call)
        if task is not None:
            self._tasks.add(task)
        try:
            self._check_auth(request)
            if rec.body and rec.json is None:
                raise ApiError(400, "We could not parse the JSON body of your request.")
            return await handler(request)
        except ApiError as err:
            return self._json(err.body(), err.status, err.headers)
        except asyncio.CancelledError:
            if not self._stopping and not call.dropped:
                self._mark_cancelled(rec)
            raise
        finally:
            if task is not None:
                self._tasks.discard(task)
            with self._lock:
                self.in_flight -= 1

    def _check_auth(self, request: web.Request) -> None:
        if self.require_key is None:
            return
        auth = request.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            raise no_key_error()
        key = auth[7:].strip()
        if key != self.require_key:
            raise bad_key_error(key)

    def _mark_cancelled(self, rec: RecordedRequest) -> None:
        with self._lock:
            if not rec.cancelled:
                rec.cancelled = True
                self.cancelled += 1

    def _headers(self) -> dict[str, str]:
        # OpenAI's edge sets a CDN cookie on every answer; a gateway must not replay it.
        return {
            "x-request-id": f"req_fake_{_CALL.get().seq}",
            "openai-processing-ms": "1",
            "set-cookie": f"__cf_bm=fake{_CALL.get().seq}; path=/; HttpOnly; SameSite=None",
        }

    def _json(self, payload: Any, status: int = 200, extra: dict[str, str] | None = None) -> web.Response:
        return web.Response(
            status=status,
            body=orjson.dumps(payload),
            content_type="application/json",
            headers={**self._headers(), **(extra or {})},
        )

    async def _misbehave(self, request: web.Request, model: Any) -> web.StreamResponse | None:
        """Apply the per-model fault injection; a response here short-circuits the handler."""
        if not isinstance(model, str):
            return None
        if model in INJECTED_ERRORS:
            raise INJECTED_ERRORS[model]()
        if model == "garbage":
            headers = self._headers()
            return web.Response(body=GARBAGE_BODY, content_type="application/json", headers=headers)
        if model == "drop":
            _CALL.get().dropped = True
            if request.transport is not None:
                request.transport.abort()
            # The lost connection cancels this handler; the sleep only bounds the odd case.
            await asyncio.sleep(self.hang_s)
            return web.Response()
        if model.startswith("slow-"):
            try:
                delay = float(model[5:])
            except ValueError:
                return None
            await asyncio.sleep(delay)
        return None

    async def _chat(self, request: web.Request) -> web.StreamResponse:
        body = _CALL.get().rec.json
        model = body.get("model") if isinstance(body, dict) else None
        if (special := await self._misbehave(request, model)) is not None:
            return special
        validate_chat(body)
        with self._lock:
            self._chat_seq += 1
            seq = self._chat_seq
        plan = plan_chat(body, seq)
        hang = model == "hang-stream"
        if body.get("stream") is True:
            include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
            chunks = stream_chunks(plan, include_usage)
            return await self._stream(request, chunks, hang)
        if hang:
            await asyncio.sleep(self.hang_s)
        return self._json(completion_json(plan))

    async def _stream(
        self, request: web.Request, chunks: list[dict[str, Any]], hang: bool
    ) -> web.StreamResponse:
        headers = {
            "Content-Type": "text/event-stream; charset=utf-8",
            "Cache-Control": "no-cache",
            **self._headers(),
        }
        resp = web.StreamResponse(status=200, headers=headers)
        try:
            await resp.prepare(request)
            for i, chunk in enumerate(chunks):
                if i and self.chunk_delay_s > 0:
                    await asyncio.sleep(self.chunk_delay_s)
                await resp.write(b"data: " + orjson.dumps(chunk) + b"\n\n")
                if hang and i == 1:  # role chunk + first content delta are out
                    await asyncio.sleep(self.hang_s)
            await resp.write(b"data: [DONE]\n\n")
            await resp.write_eof()
        except ConnectionResetError:
            # Write to a closed socket: the peer left before the handler got cancelled.
            if not self._stopping:
                self._mark_cancelled(_CALL.get().rec)
        return resp

    async def _embeddings(self, request: web.Request) -> web.StreamResponse:
        body = _CALL.get().rec.json
        model = body.get("model") if isinstance(body, dict) else None
        if (special := await self._misbehave(request, model)) is not None:
            return special
        if model == "hang-stream":
            await asyncio.sleep(self.hang_s)
        return self._json(embeddings_json(body))

    async def _models(self, request: web.Request) -> web.StreamResponse:
        return self._json(models_json())

    async def _model(self, request: web.Request) -> web.StreamResponse:
        model_id = request.match_info["model"]
        owners = dict(MODELS)
        if model_id not in owners:
            msg = f"The model '{model_id}' does not exist"
            raise ApiError(404, msg, param="model", code="model_not_found")
        return self._json(model_json(model_id, owners[model_id]))

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        raise ApiError(404, f"Invalid URL ({request.method} {request.path})")
