"""Floor: the thinnest Python proxy we know how to write, used as a yardstick.

A raw ASGI app (no framework) with one pooled aiohttp ClientSession and no JSON
parsing: the request body goes to the upstream unchanged and the upstream body
comes back unchanged; SSE is relayed chunk by chunk as it arrives. Whatever a
real gateway costs beyond this is its own overhead.

The request path is forwarded as is, so /sse/v1/chat/completions reaches the
fake upstream's streaming route. Run (bench/runner.py does this):
    uvicorn floor_app:app --app-dir bench --loop uvloop --http httptools --no-access-log
"""

from __future__ import annotations

import os
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import aiohttp

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

UPSTREAM = os.environ.get("FLOOR_UPSTREAM", "http://127.0.0.1:18080")
HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer sk-upstream-fake"}
_session: aiohttp.ClientSession | None = None


async def _lifespan(receive: Receive, send: Send) -> None:
    global _session
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            # limit=0: no pool cap, so the floor never queues behind its own pool.
            _session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            if _session is not None:
                await _session.close()
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _reply(send: Send, status: int, ctype: bytes, body: bytes) -> None:
    headers = [(b"content-type", ctype), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["path"] == "/healthz":
        await _reply(send, 200, b"text/plain", b"ok")
        return
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body"):
            break
    assert _session is not None
    async with _session.post(UPSTREAM + scope["path"], data=body, headers=HEADERS) as resp:
        ctype = resp.headers.get("Content-Type", "application/json").encode()
        if not ctype.startswith(b"text/event-stream"):
            await _reply(send, resp.status, ctype, await resp.read())
            return
        start = {"type": "http.response.start", "status": resp.status}
        await send({**start, "headers": [(b"content-type", ctype)]})
        async for chunk in resp.content.iter_any():
            await send({"type": "http.response.body", "body": chunk, "more_body": True})
        await send({"type": "http.response.body", "body": b""})
