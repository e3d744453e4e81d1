"""The ASGI application: routing, the error boundary, lifespan and per-request metrics.

A raw ASGI app rather than a framework because the edge is on every request's path: a dict
lookup routes, one function handles, and nothing else runs.
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import time
import weakref
from collections.abc import Awaitable, Callable
from typing import Any

from tollhouse.config.runtime import Runtime
from tollhouse.errors import INTERNAL_ERROR, InvalidRequest, NotFound, TollhouseError
from tollhouse.http.body import ClientGone
from tollhouse.http.endpoints import llm, messages, models, ops, responses
from tollhouse.http.inflight import InFlight
from tollhouse.http.responses import send_error
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.phases import CallKind
from tollhouse.pipeline.trace import parse_traceparent

YOUNG_GC_THRESHOLD = 10_000
# An agent session's id (``x-tollhouse-session``) is a label, searched in the audit trail and
# counted by the limits: a longer one is refused rather than stored.
MAX_SESSION_ID = 255
log = logging.getLogger("tollhouse.http")

Endpoint = Callable[[Runtime, RequestContext, Any], Awaitable[None]]

# (method, path) → (surface, endpoint). Surfaces name the chain and the metrics label.
_ROUTES: dict[tuple[str, str], tuple[str, Endpoint]] = {
    ("POST", "/v1/chat/completions"): ("chat", llm.handle),
    ("POST", "/chat/completions"): ("chat", llm.handle),
    ("POST", "/v1/embeddings"): ("embeddings", llm.handle),
    ("POST", "/v1/messages"): ("messages", messages.handle),
    ("POST", "/v1/messages/count_tokens"): ("count_tokens", messages.count_tokens),
    ("POST", "/v1/responses"): ("responses", responses.handle),
    ("POST", "/embeddings"): ("embeddings", llm.handle),
    ("GET", "/healthz"): ("ops", ops.healthz),
    ("GET", "/readyz"): ("ops", ops.readyz),
    ("GET", "/metrics"): ("ops", ops.metrics),
}
# The model list reads its query (Anthropic's pages), so it is routed with the variable paths.
_MODELS = ("/v1/models", "/models")
_PATHS = {path for _, path in _ROUTES} | set(_MODELS)
_MCP_METADATA = "/.well-known/oauth-protected-resource/mcp/"


def _request_id(headers: dict[str, str], fresh: str) -> str:
    """The caller's ``x-request-id`` when it is a sane token, else ``req_`` + ``fresh``."""
    given = headers.get("x-request-id")
    if given and len(given) <= 128 and given.isascii() and given.replace("-", "").replace("_", "").isalnum():
        return given
    return "req_" + fresh


class _RandomHex:
    """Hex digits from the OS's random source, read 7 KiB at a time: one read per request cost a
    system call (≈ 1 µs) for 28 bytes. Emptied in a forked child, which must not repeat its parent."""

    __slots__ = ("__weakref__", "_at", "_hex")

    def __init__(self) -> None:
        self._hex, self._at = "", 0
        me = weakref.ref(self)  # fork hooks live as long as the process; apps need not

        def forget() -> None:
            if (alive := me()) is not None:
                alive._hex, alive._at = "", 0

        os.register_at_fork(after_in_child=forget)

    def take56(self) -> str:
        """56 fresh hex digits (224 random bits): a trace id, a span id and a request id."""
        at = self._at
        if at == 0:
            self._hex = os.urandom(28 * 256).hex()
            at = len(self._hex)
        self._at = at - 56
        return self._hex[at - 56 : at]


class GatewayApp:
    """The gateway as an ASGI callable, bound to one compiled ``Runtime``."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.inflight = InFlight()
        self._random = _RandomHex()

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for observer in self.runtime.observers:
                        await observer.start()
                except Exception as exc:
                    log.exception("startup failed")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                # Everything loaded so far (modules, config, runtime) lives as long as the
                # process: move it out of the collector's sight, so the frequent young-generation
                # collections that per-request garbage triggers never rescan it.
                gc.collect()
                gc.freeze()
                # Collect the young generation after 10,000 net allocations, not 700. A call
                # allocates hundreds of container objects, and every young collection walks all
                # those of the calls still in flight: with 64 of them the default threshold costs
                # about 7% more instructions per call than 10,000 (callgrind); the benchmark's
                # peak RSS did not move.
                gc.set_threshold(YOUNG_GC_THRESHOLD, *gc.get_threshold()[1:])
                self.runtime.metrics.start()
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                # Observers drain what they hold (e.g. audit records) before the pools close.
                for observer in reversed(self.runtime.observers):
                    try:
                        await observer.stop()
                    except Exception:
                        log.exception("observer failed to stop cleanly")
                await self.inflight.close()
                await self.runtime.metrics.close()
                await self.runtime.pool.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        # HTTP is handled inline rather than dispatched: one coroutine less on every request.
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                await self._lifespan(receive, send)
            return
        started = time.perf_counter()
        headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in scope["headers"]}
        method, path = scope["method"], scope["path"]
        route = _ROUTES.get((method, path))
        surface, endpoint = route if route is not None else _prefixed(method, path, scope)
        # Trace id, span id and request id from one draw of the OS random source.
        raw = self._random.take56()
        rid = _request_id(headers, raw[32:]) if "x-request-id" in headers else "req_" + raw[32:]
        ctx = RequestContext(rid, surface, CallKind.LLM, headers, receive, started)
        peer = scope.get("client")
        if peer:
            ctx.client = peer[0]
        ctx.span_id = raw[32:48]
        trace = parse_traceparent(headers["traceparent"]) if "traceparent" in headers else None
        if trace is not None:
            ctx.trace_id, ctx.parent_span_id = trace
        else:
            ctx.trace_id = raw[:32]
        session = headers.get("x-tollhouse-session")
        too_long = session is not None and len(session) > MAX_SESSION_ID
        ctx.session_id = (None if too_long else session) or (trace[0] if trace else None)
        runtime = self.runtime
        if surface != "ops":
            ctx.inflight = self.inflight.track(receive)
        try:
            if endpoint is None:
                raise _no_route(method, path)
            if too_long:
                raise InvalidRequest(
                    f"x-tollhouse-session is longer than {MAX_SESSION_ID} characters",
                    code="invalid_value",
                    param="x-tollhouse-session",
                )
            await endpoint(runtime, ctx, send)
        except TollhouseError as error:
            ctx.error_code = error.code or error.type
            if ctx.status == 0:
                await send_error(send, ctx, error, runtime.redactor)
        except ClientGone:
            ctx.status, ctx.error_code = 499, "client_closed"
        except Exception:
            log.exception("unhandled error in %s %s (request %s)", method, path, ctx.request_id)
            ctx.error_code = "internal_error"
            if ctx.status == 0:
                await send_error(send, ctx, TollhouseError(INTERNAL_ERROR), runtime.redactor)
        finally:
            if ctx.inflight is not None:
                self.inflight.untrack(ctx.inflight)
            if surface != "ops":
                self._record(ctx)

    def _record(self, ctx: RequestContext) -> None:
        end = time.perf_counter()
        usage = ctx.usage
        model = ctx.model if ctx.model in self.runtime.routes else "-"  # bounded label values
        ttft = ctx.first_byte_at - ctx.started if ctx.stream and ctx.first_byte_at else None
        self.runtime.metrics.record(
            ctx.surface,
            model,
            ctx.provider or "-",
            ctx.status,
            end - ctx.started,
            ttft,
            usage.prompt_tokens if usage else 0,
            usage.completion_tokens if usage else 0,
            ctx.error_code if ctx.status >= 400 or ctx.error_code else None,
        )
        for observer in self.runtime.observers:
            try:
                observer.observe(ctx)
            except Exception:
                log.exception("observer %s failed", type(observer).__name__)
        if ctx.status >= 500 or ctx.status == 0:
            log.warning(
                "request %s %s ended with %s (%s)", ctx.request_id, ctx.surface, ctx.status, ctx.error_code
            )


def _prefixed(method: str, path: str, scope: dict[str, Any]) -> tuple[str, Endpoint | None]:
    """Routes with a variable tail or a query, tried only when no exact route matched (so the
    LLM paths stay one dict lookup): the model list and ``/v1/models/{id}``, ``/mcp/{route}``
    and its OAuth metadata."""
    if path.startswith(_MODELS):
        if method != "GET":
            return "models", None
        if path in _MODELS:
            return "models", functools.partial(models.list_models, query=scope.get("query_string", b""))
        for prefix in _MODELS:
            if path.startswith(prefix + "/") and len(path) > len(prefix) + 1:
                return "models", functools.partial(models.get_model, model_id=path[len(prefix) + 1 :])
        return "unknown", None
    if not path.startswith(("/mcp/", _MCP_METADATA)):
        return "unknown", None
    from tollhouse.http.endpoints import mcp  # the MCP SDK loads only where MCP is served

    if path.startswith("/mcp/"):
        return "mcp", functools.partial(mcp.handle_mcp, method=method, path=path)
    if path.startswith(_MCP_METADATA) and method == "GET":
        return "ops", functools.partial(mcp.handle_metadata, path=path)
    return "unknown", None


def _no_route(method: str, path: str) -> TollhouseError:
    if path in _PATHS:
        return InvalidRequest(
            f"Method {method} is not allowed for {path}", code="method_not_allowed", status=405
        )
    return NotFound(f"Unknown request URL: {method} {path}", code="unknown_url")
