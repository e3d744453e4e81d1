"""Operational endpoints: liveness, readiness and metrics."""

from __future__ import annotations

import asyncio

import orjson

from tollhouse.config.runtime import Runtime
from tollhouse.http.responses import Send, send_bytes
from tollhouse.pipeline.context import RequestContext

_OK = orjson.dumps({"status": "ok"})


async def healthz(runtime: Runtime, ctx: RequestContext, send: Send) -> None:
    """Liveness: the process serves requests."""
    await send_bytes(send, ctx, 200, _OK)


async def readyz(runtime: Runtime, ctx: RequestContext, send: Send) -> None:
    """Readiness: config loaded; optionally every upstream accepts a connection."""
    body: dict[str, object] = {"status": "ready", "models": len(runtime.routes)}
    status = 200
    if runtime.config.server.check_upstreams_on_ready:
        names = list(runtime.providers)
        results = await asyncio.gather(*(runtime.providers[n].check() for n in names))
        body["providers"] = dict(zip(names, results, strict=True))
        if not all(results):
            status, body["status"] = 503, "unready"
    await send_bytes(send, ctx, status, orjson.dumps(body))


async def metrics(runtime: Runtime, ctx: RequestContext, send: Send) -> None:
    """Prometheus exposition of every worker's metrics."""
    runtime.metrics.flush()  # this worker's pending aggregates, on the loop that owns them
    body = await asyncio.to_thread(runtime.metrics.render)  # reading the mmap files is disk I/O
    await send_bytes(send, ctx, 200, body, content_type=runtime.metrics.content_type.encode())
