"""A minimal Redis client for the counters' hot path: one connection, RESP2, pipelined.

redis-py's asyncio client spends hundreds of microseconds of Python per command; the limits
send one ``EVALSHA`` per round trip and read one reply, which this does with an
``asyncio.Protocol``: encode, write, and a future resolved by ``data_received``. Replies come
back in order, so waiting futures form a FIFO queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
from collections import deque
from typing import Any
from urllib.parse import unquote, urlparse


class RespError(Exception):
    """An error reply from Redis (``-ERR …``, ``-NOSCRIPT …``)."""


class ConnectionClosed(ConnectionError):
    """The connection to Redis is gone."""


def encode(*args: bytes | str | int) -> bytes:
    """A command in RESP: an array of bulk strings."""
    out = [b"*%d\r\n" % len(args)]
    for arg in args:
        data = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


_INCOMPLETE = object()


def _parse(buffer: bytes | bytearray, at: int) -> tuple[Any, int]:
    """One reply starting at ``at``: (value, end), or (_INCOMPLETE, at)."""
    line_end = buffer.find(b"\r\n", at)
    if line_end < 0:
        return _INCOMPLETE, at
    kind, line = buffer[at : at + 1], bytes(buffer[at + 1 : line_end])
    start = line_end + 2
    if kind == b"$":
        size = int(line)
        if size < 0:
            return None, start
        if len(buffer) < start + size + 2:
            return _INCOMPLETE, at
        return bytes(buffer[start : start + size]), start + size + 2
    if kind == b"+":
        return line, start
    if kind == b":":
        return int(line), start
    if kind == b"-":
        return RespError(line.decode(errors="replace")), start
    if kind == b"*":
        count = int(line)
        items = []
        for _ in range(max(count, 0)):
            item, start = _parse(buffer, start)
            if item is _INCOMPLETE:
                return _INCOMPLETE, at
            items.append(item)
        return (items if count >= 0 else None), start
    raise ConnectionClosed(f"unexpected reply type {kind!r}")


class _Protocol(asyncio.Protocol):
    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.waiters: deque[asyncio.Future[Any]] = deque()
        self.buffer = bytearray()
        self.closed = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]  # uvloop's does not subclass asyncio's

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        at = 0
        while at < len(self.buffer):
            try:
                value, end = _parse(self.buffer, at)
            except (ValueError, ConnectionClosed) as exc:
                self._fail(ConnectionClosed(str(exc)))
                return
            if value is _INCOMPLETE:
                break
            at = end
            if self.waiters:
                waiter = self.waiters.popleft()
                if not waiter.done():
                    waiter.set_result(value)
        del self.buffer[:at]

    def connection_lost(self, exc: Exception | None) -> None:
        self._fail(ConnectionClosed("connection to redis lost"))

    def _fail(self, error: Exception) -> None:
        self.closed = True
        while self.waiters:
            waiter = self.waiters.popleft()
            if not waiter.done():
                waiter.set_exception(error)
        if self.transport is not None:
            self.transport.close()


def _expire(protocol: _Protocol, waiter: asyncio.Future[Any]) -> None:
    if not waiter.done():
        # Every later reply would now answer the wrong waiter: drop the connection.
        protocol._fail(TimeoutError("redis did not answer in time"))


class RespClient:
    """Commands over one lazily opened connection; a broken one is replaced on the next call."""

    def __init__(self, url: str, timeout_s: float) -> None:
        parsed = urlparse(url)
        if parsed.scheme not in ("redis", "rediss"):
            raise ValueError("redis URL must start with redis:// or rediss://")
        self._host = parsed.hostname or "127.0.0.1"
        self._port = parsed.port or 6379
        self._tls = parsed.scheme == "rediss"
        self._username = unquote(parsed.username) if parsed.username else None
        self._password = unquote(parsed.password) if parsed.password else None
        path = parsed.path.lstrip("/")
        self._db = int(path) if path else 0
        self._timeout = timeout_s
        self._protocol: _Protocol | None = None
        self._connecting: asyncio.Lock | None = None

    async def _connection(self) -> _Protocol:
        protocol = self._protocol
        if protocol is not None and not protocol.closed:
            return protocol
        if self._connecting is None:
            self._connecting = asyncio.Lock()
        async with self._connecting:
            if self._protocol is None or self._protocol.closed:
                self._protocol = await self._open()
            return self._protocol

    async def _open(self) -> _Protocol:
        loop = asyncio.get_running_loop()
        _, protocol = await asyncio.wait_for(
            loop.create_connection(_Protocol, self._host, self._port, ssl=self._tls or None), self._timeout
        )
        setup: list[tuple[bytes | str | int, ...]] = []
        if self._password is not None:
            setup.append(
                ("AUTH", self._username, self._password) if self._username else ("AUTH", self._password)
            )
        if self._db:
            setup.append(("SELECT", self._db))
        for command in setup:
            reply = await self._send(protocol, encode(*command))
            if isinstance(reply, RespError):
                protocol._fail(ConnectionClosed("redis refused the connection setup"))
                raise reply
        return protocol

    async def _send(self, protocol: _Protocol, data: bytes) -> Any:
        assert protocol.transport is not None
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[Any] = loop.create_future()
        protocol.waiters.append(waiter)
        protocol.transport.write(data)
        # A timer rather than asyncio.wait_for: this is the hot path, and a timer is cheaper.
        timer = loop.call_later(self._timeout, _expire, protocol, waiter)
        try:
            return await waiter
        finally:
            timer.cancel()

    async def call(self, *args: bytes | str | int) -> Any:
        """One command's reply; an error reply is returned (not raised) as ``RespError``."""
        return await self._send(await self._connection(), encode(*args))

    async def close(self) -> None:
        if self._protocol is not None and self._protocol.transport is not None:
            with contextlib.suppress(Exception):
                self._protocol.transport.close()
        self._protocol = None


class Script:
    """A Lua script run by ``EVALSHA``, loaded again when Redis has forgotten it (a restart)."""

    def __init__(self, client: RespClient, source: str) -> None:
        self._client = client
        self._source = source.encode()
        self._sha = hashlib.sha1(self._source, usedforsecurity=False).hexdigest()

    async def __call__(self, *args: bytes | str | int) -> Any:
        reply = await self._client.call("EVALSHA", self._sha, 0, *args)
        if isinstance(reply, RespError) and str(reply).startswith("NOSCRIPT"):
            reply = await self._client.call("EVAL", self._source, 0, *args)
        if isinstance(reply, RespError):
            raise reply
        return reply
