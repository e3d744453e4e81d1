"""One agent session as a tree: each call (span) with its events, usage, cost and children.

Records of a session are grouped by span id (every event of one call shares the gateway
span); a call whose ``parent_span_id`` is another call of the session hangs under it, so an
agent's tool call that made LLM calls shows them as its children.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.audit import tables
from tollhouse.audit.reader import UNREADABLE, AuditReader, record_of
from tollhouse.audit.vault import ContentUnavailable, ContentVault

MAX_RECORDS = 20_000
_KINDS = {"llm": "llm", "tool": "tool", "mcp": "mcp", "a2a": "a2a"}


@dataclass(slots=True)
class CallNode:
    """One call of the session and what the audit trail holds about it."""

    span_id: str
    parent_span_id: str | None
    kind: str
    time: str
    events: list[dict[str, Any]] = field(default_factory=list)
    content: dict[str, str] = field(default_factory=dict)  # part → text, or why it is not shown
    children: list[CallNode] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """The call's route, status, usage, cost and latency, from its last event that has them."""
        merged: dict[str, Any] = {}
        for event in self.events:
            for key in (
                "route",
                "provider",
                "status",
                "error_code",
                "usage",
                "cost_micro_usd",
                "latency_us",
                "principal",
            ):
                if key in event:
                    merged[key] = event[key]
        return merged

    def to_json(self) -> dict[str, Any]:
        return {
            "span_id": self.span_id,
            "kind": self.kind,
            "time": self.time,
            **self.summary(),
            "events": [
                {"type": e["type"], "time": e["time"], "id": e["id"]} | _verdicts(e) for e in self.events
            ],
            "content": self.content,
            "children": [c.to_json() for c in self.children],
        }


@dataclass(slots=True)
class Timeline:
    session_id: str
    roots: list[CallNode]
    calls: int
    total_tokens: int
    cost_micro_usd: int

    def to_json(self) -> dict[str, Any]:
        return {
            "session_id": self.session_id,
            "calls": self.calls,
            "total_tokens": self.total_tokens,
            "cost_micro_usd": self.cost_micro_usd,
            "roots": [r.to_json() for r in self.roots],
        }


def _verdicts(event: dict[str, Any]) -> dict[str, Any]:
    return {"verdicts": event["verdicts"]} if "verdicts" in event else {}


def _build(records: list[dict[str, Any]]) -> dict[str, CallNode]:
    nodes: dict[str, CallNode] = {}
    for record in records:
        span = record.get("span_id") or record["id"]
        node = nodes.get(span)
        if node is None:
            kind = _KINDS.get(str(record.get("type", "")).split(".")[0], "decision")
            node = nodes[span] = CallNode(span, record.get("parent_span_id"), kind, record["time"])
        node.events.append(record)
    return nodes


async def _reveal(nodes: dict[str, CallNode], reader: AuditReader, vault: ContentVault | None) -> None:
    refs = {
        (record["id"], ref["part"]): node
        for node in nodes.values()
        for record in node.events
        for ref in record.get("content", [])
    }
    for node in nodes.values():
        for record in node.events:
            for ref in record.get("content", []):
                node.content[ref["part"]] = (
                    "[not revealed]" if vault is None else f"[not stored: {ref['stored']}]"
                )
    if vault is None:
        return
    for row in await reader.content(sorted({event_id for event_id, _ in refs})):
        owner = refs.get((row.event_id, row.part))
        if owner is None:
            continue
        try:
            owner.content[row.part] = (await vault.open(row)).decode("utf-8", "replace")
        except ContentUnavailable as exc:
            owner.content[row.part] = f"[unavailable: {exc}]"


async def session_timeline(
    engine: AsyncEngine, reader: AuditReader, session_id: str, vault: ContentVault | None
) -> Timeline:
    c = tables.records.c
    query = (
        select(c.chain_id, c.seq, c.body)
        .where(c.session_id == session_id)
        .order_by(c.time_us, c.seq)
        .limit(MAX_RECORDS)
    )
    async with engine.connect() as conn:
        rows = (await conn.execute(query)).all()
    # A tampered body has no place in the tree (``audit verify`` names it).
    records = [r for r in (record_of(*row) for row in rows) if r["type"] != UNREADABLE]
    nodes = _build(records)
    await _reveal(nodes, reader, vault)
    roots: list[CallNode] = []
    for node in nodes.values():
        parent = nodes.get(node.parent_span_id or "")
        (parent.children if parent is not None and parent is not node else roots).append(node)
    tokens = sum(
        int(r.get("usage", {}).get("total_tokens", 0)) for r in records if r["type"] != "llm.request"
    )
    cost = sum(int(r.get("cost_micro_usd", 0)) for r in records if r["type"] != "llm.request")
    return Timeline(session_id, roots, len(nodes), tokens, cost)
