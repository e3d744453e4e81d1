"""Admin changes as ``admin.change`` records: any change can be recorded, canonically."""

from __future__ import annotations

from tollhouse.admin.events import AdminEvent, RecentEvents, event
from tollhouse.audit.admin_changes import admin_change_event
from tollhouse.audit.canonical import check_canonical_value


def test_free_form_values_are_made_canonical() -> None:
    change = event(
        "principal.update",
        "user:alice",
        "principal",
        "bob",
        {"metadata": {"équipe": "ml", "budget": 1.5}, "counter": 2**60, "flags": (True, None)},
        {"metadata": {"équipe": "data"}, "created_at": 1795776000.25},
        request_id="adm_1",
    )
    record = admin_change_event(change).to_record()
    check_canonical_value(record)
    detail = record["detail"]
    assert detail["before"] == {
        "metadata": {"\\xe9quipe": "ml", "budget": "1.5"},
        "counter": str(2**60),
        "flags": [True, None],
    }
    assert detail["after"]["created_at"] == "1795776000.25"
    assert record["principal"] == {"kind": "user", "id": "alice"} and record["surface"] == "admin"


class _Broken:
    def emit(self, event: AdminEvent) -> None:
        raise RuntimeError("queue gone")


class _Kept:
    def __init__(self) -> None:
        self.events: list[AdminEvent] = []

    def emit(self, event: AdminEvent) -> None:
        self.events.append(event)


def test_recent_events_pass_changes_on_and_survive_a_failing_sink() -> None:
    kept = _Kept()
    recent = RecentEvents(forward=(_Broken(), kept))
    change = event("key.revoke", "user:alice", "key", "key_1", None, None)
    recent.emit(change)
    assert kept.events == [change] and recent.recent() == [change]
