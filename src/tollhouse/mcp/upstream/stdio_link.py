"""An upstream the gateway runs itself: a process speaking newline-delimited JSON-RPC on its
stdin/stdout, started with the configured command, environment and working directory, and
restarted (with exponential backoff) whenever it exits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os

import orjson

from tollhouse.background import stop_task
from tollhouse.config.secrets import Secret
from tollhouse.errors import UpstreamError, UpstreamUnavailable
from tollhouse.mcp.config import McpServerConfig
from tollhouse.mcp.protocol import Message
from tollhouse.mcp.upstream.link import Listener
from tollhouse.mcp.upstream.stream_link import StreamLink

log = logging.getLogger("tollhouse.mcp")
_LINE_LIMIT = 64 * 1024 * 1024
_STABLE_S = 10.0  # a process that lived this long resets the backoff


class StdioLink(StreamLink):
    """Supervises one child process and speaks MCP with it."""

    def __init__(
        self, name: str, config: McpServerConfig, env: dict[str, Secret], listener: Listener | None = None
    ) -> None:
        super().__init__(name, config, listener)
        self._env = {k: v.reveal() for k, v in env.items()}
        self._process: asyncio.subprocess.Process | None = None
        self._supervisor: asyncio.Task[None] | None = None
        self._write_lock = asyncio.Lock()
        self.starts = 0  # how many times the process was started (restarts + 1)

    async def start(self) -> None:
        self._supervisor = asyncio.create_task(self._supervise(), name=f"mcp-stdio-{self.name}")

    async def close(self) -> None:
        await stop_task(self._supervisor)
        self._cancel_tasks()
        await self._stop_process()

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def _send(self, message: Message) -> None:
        process = self._process
        if process is None or process.stdin is None or process.returncode is not None:
            raise UpstreamUnavailable(f"MCP server {self.name} is not running")
        async with self._write_lock:
            try:
                process.stdin.write(orjson.dumps(message) + b"\n")
                await process.stdin.drain()
            except (BrokenPipeError, ConnectionResetError) as exc:
                raise UpstreamUnavailable(f"MCP server {self.name} is not running") from exc

    async def _supervise(self) -> None:
        backoff = self._config.restart.initial_backoff_s
        loop = asyncio.get_running_loop()
        while True:
            started = loop.time()
            try:
                await self._run_once()
            except (OSError, UpstreamError) as exc:
                log.warning("MCP server %s failed to start: %s", self.name, type(exc).__name__)
            except Exception:
                log.exception("MCP server %s: supervisor error", self.name)
            self._connection_lost("exited")
            if loop.time() - started > _STABLE_S:
                backoff = self._config.restart.initial_backoff_s
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, self._config.restart.max_backoff_s)

    async def _run_once(self) -> None:
        command = self._config.command
        self._process = process = await asyncio.create_subprocess_exec(
            *command,
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.DEVNULL,
            env={"PATH": os.environ.get("PATH", ""), **self._env},
            cwd=self._config.cwd,
            limit=_LINE_LIMIT,
        )
        self.starts += 1
        reader = asyncio.create_task(self._read(process))
        try:
            await self._handshake()
            await process.wait()
        finally:
            reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await reader
            await self._stop_process()
        log.warning("MCP server %s exited with %s; restarting", self.name, process.returncode)

    async def _read(self, process: asyncio.subprocess.Process) -> None:
        assert process.stdout is not None
        while True:
            line = await process.stdout.readline()
            if not line:
                return
            try:
                message = orjson.loads(line)
            except orjson.JSONDecodeError:
                continue  # not a message (a stray print): skip it
            self._received(message)

    async def _stop_process(self) -> None:
        process, self._process = self._process, None
        if process is None or process.returncode is not None:
            return
        if process.stdin is not None:
            process.stdin.close()
        try:
            await asyncio.wait_for(process.wait(), 2.0)
        except TimeoutError:
            process.kill()
            await process.wait()
