"""Per-caller upstream sessions for a server whose token is exchanged (RFC 8693).

An upstream that gets each caller's own exchanged token must also see each caller in its
own MCP session (a session belongs to one user), so this link keeps one ``HttpLink`` per
caller, made on the caller's first request and dropped (least recently used first) beyond
``max_subjects``. The caller is the request's ``CURRENT_SUBJECT``.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from tollhouse.errors import UpstreamAuthFailed
from tollhouse.mcp.config import McpServerConfig
from tollhouse.mcp.upstream.exchange import CURRENT_SUBJECT, SubjectCredentials, TokenExchanger
from tollhouse.mcp.upstream.http_link import HttpLink
from tollhouse.mcp.upstream.link import Listener, Relay
from tollhouse.upstream.pool import UpstreamPool


def _no_schema(tool: str) -> Any:
    return None


class SubjectLinks:
    """A ``Link`` that sends each caller's requests on that caller's own upstream session."""

    def __init__(
        self,
        name: str,
        config: McpServerConfig,
        exchanger: TokenExchanger,
        pool: UpstreamPool,
        listener: Listener | None = None,
    ) -> None:
        assert config.token_exchange is not None
        self.name = name
        self.exchanger = exchanger
        self._config = config
        self._pool = pool
        self._listener = listener
        self._limit = config.token_exchange.max_subjects
        self._links: OrderedDict[str, HttpLink] = OrderedDict()
        self._closing: set[asyncio.Task[None]] = set()
        self.input_schema: Callable[[str], Any] = _no_schema

    async def start(self) -> None:
        return None

    async def close(self) -> None:
        links, self._links = list(self._links.values()), OrderedDict()
        for link in links:
            await link.close()

    async def request(
        self, method: str, params: dict[str, Any] | None, relay: Relay | None = None
    ) -> dict[str, Any]:
        return await self.current().request(method, params, relay)

    def listen(self) -> None:
        """The current caller's session keeps its standalone stream open."""
        self.current().listen()

    def current(self) -> HttpLink:
        """The upstream session of the caller of the request being handled."""
        subject = CURRENT_SUBJECT.get()
        if subject is None:
            raise UpstreamAuthFailed(
                f"MCP server {self.name} is reached with the caller's exchanged token: "
                "authenticate with a bearer token from a configured identity provider"
            )
        link = self._links.get(subject.key)
        if link is not None:
            self._links.move_to_end(subject.key)
            credentials = link.credentials
            if isinstance(credentials, SubjectCredentials):
                credentials.subject = subject  # the caller's latest token, for the next exchange
            return link
        link = HttpLink(
            self.name, self._config, SubjectCredentials(self.exchanger, subject), self._pool, self._listener
        )
        link.input_schema = self.input_schema
        self._links[subject.key] = link
        while len(self._links) > self._limit:
            _, old = self._links.popitem(last=False)
            task = asyncio.get_running_loop().create_task(old.close())
            self._closing.add(task)
            task.add_done_callback(self._closing.discard)
        return link

    def __len__(self) -> int:
        return len(self._links)
