"""Admin events: every change to keys, principals, policies or credentials, with its actor.

``AdminEventSink`` is the seam for the audit trail: ``RecentEvents`` logs each event as one
JSON line, keeps the latest in memory for ``GET /v1/events`` and hands each on to its
``forward`` sinks — with audit enabled, the audit trail's recorder (enqueue only, no I/O on
the caller's path), which makes it an ``admin.change`` record in the chain. Events never hold
a secret: views exclude key material, digests and credential values by construction.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import orjson

log = logging.getLogger("tollhouse.admin.events")


@dataclass(frozen=True, slots=True)
class AdminEvent:
    """One change: who did what to which record, and the record before and after."""

    action: str  # "key.create", "key.revoke", "policy.put", …
    actor: str  # "master:master-0", "user:alice", "cli:root"
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    at: float
    request_id: str | None = None

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


class AdminEventSink(Protocol):
    """Receives admin events; must not block (the audit writer enqueues)."""

    def emit(self, event: AdminEvent) -> None: ...


class RecentEvents:
    """Logs every event, keeps the newest ``limit`` in memory (per process) and passes each
    on to the ``forward`` sinks."""

    def __init__(self, limit: int = 1000, forward: Sequence[AdminEventSink] = ()) -> None:
        self._events: deque[AdminEvent] = deque(maxlen=limit)
        self._forward = tuple(forward)

    def emit(self, event: AdminEvent) -> None:
        self._events.append(event)
        log.info("admin.change %s", orjson.dumps(event.to_json()).decode())
        for sink in self._forward:
            try:
                sink.emit(event)
            except Exception:
                # The change is already committed: failing the admin call would not undo it.
                log.exception("admin change %s of %s was not passed on", event.action, event.target_id)

    def recent(self, limit: int = 100) -> list[AdminEvent]:
        return list(self._events)[-limit:][::-1]


def event(
    action: str,
    actor: str,
    target_type: str,
    target_id: str,
    before: dict[str, Any] | None,
    after: dict[str, Any] | None,
    request_id: str | None = None,
) -> AdminEvent:
    return AdminEvent(action, actor, target_type, target_id, before, after, time.time(), request_id)
