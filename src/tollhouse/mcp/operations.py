"""Operator decisions on MCP, shared by the CLI and the admin API: approve or reject a pinned
definition (held tool calls: ``approvals.decide``). Each decision is an admin event with
the actor and the record before and after."""

from __future__ import annotations

from typing import Any

from tollhouse.admin.events import AdminEventSink, event
from tollhouse.identity.errors import InvalidInput, UnknownRecord
from tollhouse.mcp.pin_store import PinStore

KINDS = ("tool", "prompt", "resource", "template")


def parse_target(target: str) -> tuple[str, str]:
    """``server/name`` as operators write a definition (``notes/add_note``, ``notes/notes://all``)."""
    server, sep, name = target.partition("/")
    if not sep or not server or not name:
        raise InvalidInput(f"{target!r}: write SERVER/NAME, e.g. notes/add_note")
    return server, name


async def list_definitions(store: PinStore, pending: bool, server: str | None = None) -> list[dict[str, Any]]:
    """Every definition seen, or only those waiting for approval."""
    rows = await store.list(None, server)
    return [r.to_json() for r in rows if not pending or r.pending_sha256 is not None]


async def decide_definition(
    store: PinStore, sink: AdminEventSink, actor: str, target: str, kind: str, approve: bool
) -> dict[str, Any]:
    """Approve (pin) or reject the pending definition ``server/name``."""
    if kind not in KINDS:
        raise InvalidInput(f"kind: one of {', '.join(KINDS)}")
    server, name = parse_target(target)
    before = next((r for r in await store.list(None, server) if r.kind == kind and r.key == name), None)
    row = await store.decide(server, kind, name, approve, actor)
    if row is None:
        raise UnknownRecord(f"no pending {kind} {server}/{name}")
    action = "mcp.definition.approve" if approve else "mcp.definition.reject"
    sink.emit(
        event(
            action,
            actor,
            f"mcp_{kind}",
            f"{server}/{name}",
            before.to_json() if before else None,
            row.to_json(),
        )
    )
    return row.to_json()
