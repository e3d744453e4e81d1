"""Cache keys: canonical requests and tenant scopes."""

from __future__ import annotations

from tests.unit.support import make_ctx
from tollhouse.cache.entry import CachedAnswer
from tollhouse.cache.key import cache_key, tenant_of
from tollhouse.identity.principal import Principal

ACME = Principal("user", "alice", org_id="acme")
GLOBEX = Principal("user", "bob", org_id="globex")
ACME_BOT = Principal("agent", "bot", org_id="acme")


def ctx(payload: dict, principal: Principal | None = ACME, surface: str = "chat"):  # type: ignore[no-untyped-def,type-arg]
    made = make_ctx(surface, payload=payload)
    made.principal = principal
    return made


def test_key_order_does_not_matter_but_content_does() -> None:
    one = ctx({"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0})
    two = ctx({"temperature": 0, "messages": [{"content": "hi", "role": "user"}], "model": "m"})
    other = ctx({"model": "m", "messages": [{"role": "user", "content": "hi!"}], "temperature": 0})
    streamed = ctx(
        {"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 0, "stream": True}
    )
    t = tenant_of(one, "tenant")
    assert cache_key(one, t) == cache_key(two, t)
    assert cache_key(one, t) != cache_key(other, t)
    assert cache_key(one, t) != cache_key(streamed, t)


def test_the_surface_and_the_dialect_are_part_of_the_key() -> None:
    chat, responses = ctx({"model": "m"}), ctx({"model": "m"}, surface="responses")
    assert cache_key(chat, "x") != cache_key(responses, "x")
    anthropic = ctx({"model": "m"})
    anthropic.dialect = "anthropic"
    assert cache_key(chat, "x") != cache_key(anthropic, "x")


def test_tenants() -> None:
    payload = {"model": "m"}
    assert (
        tenant_of(ctx(payload, ACME), "tenant") == tenant_of(ctx(payload, ACME_BOT), "tenant") == "org:acme"
    )
    assert tenant_of(ctx(payload, GLOBEX), "tenant") == "org:globex"
    assert tenant_of(ctx(payload, ACME), "principal") != tenant_of(ctx(payload, ACME_BOT), "principal")
    master = Principal("master", "master-0")
    assert tenant_of(ctx(payload, master), "tenant") == "principal:master:master-0"  # no org: per caller
    assert tenant_of(ctx(payload, None), "tenant") == "anonymous"
    assert tenant_of(ctx(payload, ACME), "shared") == tenant_of(ctx(payload, GLOBEX), "shared")
    acme, globex = ctx(payload, ACME), ctx(payload, GLOBEX)
    assert cache_key(acme, tenant_of(acme, "tenant")) != cache_key(globex, tenant_of(globex, "tenant"))


def test_entries_round_trip_and_foreign_bytes_are_no_entry() -> None:
    answer = CachedAnswer(b"data: {}\n\n", b"text/event-stream; charset=utf-8", 1700000000.25)
    assert CachedAnswer.decode(answer.encode()) == answer
    assert CachedAnswer.decode(b"short") is None
    assert CachedAnswer.decode(b"XXXX" + answer.encode()[4:]) is None
