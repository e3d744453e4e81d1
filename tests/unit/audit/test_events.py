"""Events: their record form, times and ids."""

from __future__ import annotations

from tollhouse.audit.events import AuditEvent, EventType, PrincipalRef, format_time, new_event_id, parse_time
from tollhouse.identity.principal import Principal


def test_record_leaves_out_empty_fields_and_never_holds_a_key() -> None:
    principal = Principal(kind="agent", id="planner", org_id="acme", key_id="key_9", on_behalf_of="alice")
    record = AuditEvent(EventType.LLM_REQUEST, principal=PrincipalRef.of(principal), route="gpt").to_record()
    assert record["principal"] == {
        "kind": "agent",
        "id": "planner",
        "org": "acme",
        "key_id": "key_9",
        "delegation": ["user:alice", "agent:planner"],
    }
    assert "usage" not in record and "verdicts" not in record and "detail" not in record
    assert record["type"] == "llm.request" and record["route"] == "gpt"


def test_times_round_trip_to_the_microsecond() -> None:
    for time_us in (0, 1_700_000_000_123_456, 1_795_775_160_919_043):
        text = format_time(time_us)
        assert text.endswith("Z") and parse_time(text) == time_us
    assert parse_time("2026-05-01T12:00:00") == parse_time("2026-05-01T12:00:00+00:00")


def test_event_ids_sort_in_time_order() -> None:
    first = new_event_id()
    later = AuditEvent(EventType.ADMIN_CHANGE, id=new_event_id())
    assert len(first) == 32 and first[:12] <= later.id[:12]
