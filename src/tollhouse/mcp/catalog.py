"""What each upstream offers — tools, prompts, resources, resource templates — fetched from
it (every page) and reused for ``catalog_ttl_s``, or until it says its list changed."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any

from tollhouse.mcp.protocol import METHOD_NOT_FOUND, Message, RpcError
from tollhouse.mcp.upstream.link import Link

# list method → (result key, kind) for each of the four lists.
LISTS: dict[str, tuple[str, str]] = {
    "tools/list": ("tools", "tool"),
    "prompts/list": ("prompts", "prompt"),
    "resources/list": ("resources", "resource"),
    "resources/templates/list": ("resourceTemplates", "template"),
}
_CHANGED = {
    "notifications/tools/list_changed": "tools/list",
    "notifications/prompts/list_changed": "prompts/list",
    "notifications/resources/list_changed": "resources/list",
}
_MAX_PAGES = 100


@dataclass(frozen=True, slots=True)
class Definition:
    """One item an upstream lists, as it sent it."""

    server: str
    kind: str  # tool, prompt, resource, template
    key: str  # its name (tools, prompts) or URI / URI template (resources, templates)
    body: dict[str, Any]


def key_of(kind: str, body: dict[str, Any]) -> str:
    """The identity of a listed item: its name, URI or URI template."""
    field = {"resource": "uri", "template": "uriTemplate"}.get(kind, "name")
    value = body.get(field)
    return value if isinstance(value, str) else ""


class ServerCatalog:
    """One upstream's lists, cached."""

    def __init__(self, server: str, link: Link, ttl_s: float, capabilities: set[str] | None = None) -> None:
        self.server = server
        self._link = link
        self._ttl = ttl_s
        self._lists: dict[str, tuple[float, tuple[Definition, ...]]] = {}
        self._locks = {method: asyncio.Lock() for method in LISTS}

    def changed(self, notification: Message) -> None:
        """The upstream said a list changed: fetch it again next time."""
        method = _CHANGED.get(str(notification.get("method")))
        if method is not None:
            self._lists.pop(method, None)
            if method == "resources/list":
                self._lists.pop("resources/templates/list", None)

    async def items(self, method: str) -> tuple[Definition, ...]:
        cached = self._lists.get(method)
        now = time.monotonic()
        if cached is not None and cached[0] > now:
            return cached[1]
        async with self._locks[method]:
            cached = self._lists.get(method)
            if cached is not None and cached[0] > time.monotonic():
                return cached[1]
            fetched = await self._fetch(method)
            self._lists[method] = (time.monotonic() + self._ttl, fetched)
            return fetched

    def input_schema(self, tool: str) -> Any:
        """A cached tool's input schema (None when not cached): what ``Mcp-Param-*`` headers
        a 2026-07-28 upstream expects for its calls."""
        cached = self._lists.get("tools/list")
        for item in cached[1] if cached is not None else ():
            if item.key == tool:
                return item.body.get("inputSchema")
        return None

    def cached_keys(self, method: str) -> set[str]:
        """The keys of what is cached now (nothing fetched)."""
        cached = self._lists.get(method)
        return {item.key for item in cached[1]} if cached is not None else set()

    async def find(self, method: str, key: str) -> Definition | None:
        for item in await self.items(method):
            if item.key == key:
                return item
        return None

    async def _fetch(self, method: str) -> tuple[Definition, ...]:
        field, kind = LISTS[method]
        found: list[Definition] = []
        cursor: str | None = None
        for _ in range(_MAX_PAGES):
            try:
                result = await self._link.request(method, {"cursor": cursor} if cursor else None)
            except RpcError as exc:
                if exc.code == METHOD_NOT_FOUND:  # the server offers none of these
                    return ()
                raise
            for body in result.get(field) or ():
                if isinstance(body, dict) and key_of(kind, body):
                    found.append(Definition(self.server, kind, key_of(kind, body), body))
            cursor = result.get("nextCursor") if isinstance(result.get("nextCursor"), str) else None
            if not cursor:
                break
        return tuple(found)
