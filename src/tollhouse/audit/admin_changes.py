"""Admin changes into the audit trail: an ``AdminEventSink`` that records ``admin.change`` events.

Hand ``AdminChangeRecorder(trail)`` to the admin services: each change (who did what to which
record, before and after) becomes a chained record. The admin plane's views never hold a
secret, so neither do these records. Values a record cannot hold as they are (floats such as
timestamps, integers beyond 2**53) are written as text and non-ASCII keys (free-form
metadata) are escaped, so every change can be recorded and the record stays canonical.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tollhouse.admin.events import AdminEvent
from tollhouse.audit.canonical import MAX_SAFE_INT
from tollhouse.audit.events import AuditEvent, EventType, PrincipalRef
from tollhouse.audit.service import AuditService
from tollhouse.audit.trail import AuditTrail


def _key(key: object) -> str:
    text = str(key)
    return text if text.isascii() else text.encode("ascii", "backslashreplace").decode("ascii")


def _canonicalizable(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_SAFE_INT:
        return str(value)
    if isinstance(value, dict):
        return {_key(k): _canonicalizable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonicalizable(v) for v in value]
    return value


def _actor(actor: str) -> PrincipalRef:
    kind, _, ident = actor.partition(":")
    return PrincipalRef(kind, ident) if ident else PrincipalRef("unknown", actor)


def admin_change_event(change: AdminEvent) -> AuditEvent:
    """The ``admin.change`` event for one change."""
    return AuditEvent(
        EventType.ADMIN_CHANGE,
        time_us=int(change.at * 1_000_000),
        request_id=change.request_id,
        principal=_actor(change.actor),
        surface="admin",
        detail={
            "action": change.action,
            "target_type": change.target_type,
            "target_id": change.target_id,
            "before": _canonicalizable(change.before),
            "after": _canonicalizable(change.after),
        },
    )


class AdminChangeRecorder:
    """Implements the admin plane's ``AdminEventSink``: enqueue only, never blocks."""

    def __init__(self, trail: AuditTrail) -> None:
        self._trail = trail

    def emit(self, event: AdminEvent) -> None:
        self._trail.emit(admin_change_event(event))


@dataclass(frozen=True, slots=True)
class AdminAudit:
    """What the admin API gets from the audit trail: where its changes are recorded, and the
    read side (verify, search, sessions, public key) it serves to auditors. The admin server
    releases ``service``'s database connections when it stops."""

    recorder: AdminChangeRecorder
    service: AuditService
