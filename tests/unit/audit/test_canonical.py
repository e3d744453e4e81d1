"""Canonical bytes: orjson's sorted form equals RFC 8785 (the rfc8785 package) for record values."""

from __future__ import annotations

import hashlib
import json
import random
import string
from typing import Any

import pytest
import rfc8785

from tollhouse.audit.canonical import GENESIS_PREV, NotCanonical, canonical, chain_hash, check_canonical_value
from tollhouse.audit.events import AuditEvent, ContentRef, EventType, PrincipalRef, Usage, Verdict

_ALPHABET = string.printable + 'é€😀\u2028\u2029\x00\x01\x1f\x7f"\\/'


def _value(rng: random.Random, depth: int) -> Any:
    kind = rng.randrange(7 if depth < 3 else 4)
    if kind == 0:
        return "".join(rng.choice(_ALPHABET) for _ in range(rng.randrange(12)))
    if kind == 1:
        return rng.randrange(-(2**53) + 1, 2**53)
    if kind == 2:
        return rng.choice([True, False, None])
    if kind == 3:
        return ""
    if kind in (4, 5):
        keys = [
            "".join(rng.choice(string.ascii_letters + "_.") for _ in range(rng.randrange(1, 8)))
            for _ in range(4)
        ]
        return {k: _value(rng, depth + 1) for k in keys}
    return [_value(rng, depth + 1) for _ in range(rng.randrange(4))]


def test_matches_rfc8785_on_random_records() -> None:
    rng = random.Random(8785)
    for _ in range(500):
        record = {"k": _value(rng, 0), "a": _value(rng, 0)}
        check_canonical_value(record)
        assert canonical(record) == rfc8785.dumps(record)
        # …and the plain-json form the docs give auditors.
        assert (
            canonical(record)
            == json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()
        )


def test_matches_rfc8785_on_a_full_event() -> None:
    event = AuditEvent(
        EventType.LLM_RESPONSE,
        principal=PrincipalRef(
            "agent", "planner-é", "org", "team", "key_1", ("user:alice", "agent:planner-é")
        ),
        usage=Usage(12, 30),
        cost_micro_usd=1234,
        verdicts=(Verdict("guard:pii", "redact", "email", "pii"),),
        content=(ContentRef("request", "ab" * 32, 10, "full"),),
        detail={"note": "line\nbreak\t\u0000"},
    )
    record = event.to_record()
    check_canonical_value(record)
    assert canonical(record) == rfc8785.dumps(record)


@pytest.mark.parametrize("bad", [{"x": 1.5}, {"x": 2**60}, {"é": 1}, {"x": [object()]}, {"x": {1: 2}}])
def test_values_outside_the_subset_are_refused(bad: dict[str, Any]) -> None:
    with pytest.raises(NotCanonical):
        check_canonical_value(bad)


def test_chain_hash_is_sha256_of_prev_then_bytes() -> None:
    data = canonical({"b": 1, "a": "x"})
    assert data == b'{"a":"x","b":1}'
    assert chain_hash(GENESIS_PREV, data) == hashlib.sha256(bytes(32) + data).digest()
