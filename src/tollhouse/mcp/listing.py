"""The four lists a caller sees on a route: every server's items, named for the route,
only those the caller may use and whose definitions are approved."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from tollhouse.mcp.call import Caller, McpCall
from tollhouse.mcp.catalog import LISTS, Definition
from tollhouse.mcp.gateway import McpGateway

log = logging.getLogger("tollhouse.mcp")


def exposed_body(gateway: McpGateway, caller: Caller, item: Definition) -> dict[str, Any]:
    """The item as the route shows it: its name prefixed in a federated route."""
    body = dict(item.body)
    if caller.route.names.prefixed and isinstance(body.get("name"), str):
        body["name"] = caller.route.names.expose(item.server, body["name"])
    return body


def visible(gateway: McpGateway, caller: Caller, item: Definition) -> bool:
    """Whether the caller may use ``item`` and its definition is usable (pinned)."""
    if not gateway.authorizer.check(caller.principal, item.kind, item.server, item.key).allowed:
        return False
    return gateway.pins is None or gateway.pins.usable(item)


async def list_items(gateway: McpGateway, caller: Caller, method: str, call: McpCall) -> dict[str, Any]:
    """One list method's answer on the caller's route."""
    field, _ = LISTS[method]
    servers = caller.route.servers
    fetched = await asyncio.gather(
        *(gateway.catalogs[s].items(method) for s in servers), return_exceptions=True
    )
    out: list[dict[str, Any]] = []
    hidden = 0
    unavailable: list[str] = []
    for server, items in zip(servers, fetched, strict=True):
        if isinstance(items, BaseException):
            if not isinstance(items, Exception):
                raise items
            log.warning("MCP server %s could not list %s: %s", server, field, items)
            unavailable.append(server)
            continue
        if gateway.pins is not None:
            gateway.pins.observe(items)
        for item in items:
            if visible(gateway, caller, item):
                out.append(exposed_body(gateway, caller, item))
            else:
                hidden += 1
    call.detail["listed"] = len(out)
    if hidden:
        call.detail["hidden"] = hidden
    if unavailable:
        call.detail["unavailable"] = unavailable
    return {field: out}
