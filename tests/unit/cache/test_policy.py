"""The cache policy on its own: lookup, replay, what it stores at exit, Cache-Control."""

from __future__ import annotations

import pytest

from tests.unit.support import make_ctx
from tollhouse.cache.config import CacheConfig
from tollhouse.cache.memory import MemoryStore
from tollhouse.identity.principal import Principal
from tollhouse.pipeline.outcome import Reply
from tollhouse.policies.cache import SSE, ResponseCache, directives

PAYLOAD = {"model": "m", "messages": [{"role": "user", "content": "hi"}]}
ALICE = Principal("user", "alice", org_id="acme")


def ctx(stream: bool = False, principal: Principal = ALICE, **headers: str):  # type: ignore[no-untyped-def]
    made = make_ctx(payload={**PAYLOAD, "stream": stream}, headers=headers)
    made.principal = principal
    return made


async def answered(policy: ResponseCache, c, body: bytes = b'{"answer": 1}') -> None:  # type: ignore[no-untyped-def]
    """Run the policy around a successful call that produced ``body``."""
    assert await policy.enter(c) is None
    c.status = 200
    if c.stream:
        c.stream_capture = [b"data: {}\n\n"]
    else:
        c.response_body = body
    await policy.exit(c)


def headers(c) -> dict[bytes, bytes]:  # type: ignore[no-untyped-def]
    return dict(c.response_headers or [])


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, (False, None)),
        ("no-store", (True, None)),
        ("No-Cache", (False, 0.0)),
        ("max-age=60, no-cache", (False, 0.0)),
        ("max-age=60", (False, 60.0)),
        ("max-age=soon", (False, None)),
    ],
)
def test_directives(value: str | None, expected: tuple[bool, float | None]) -> None:
    assert directives(value) == expected


async def test_a_miss_is_stored_at_exit_and_the_next_call_is_a_hit() -> None:
    policy = ResponseCache(MemoryStore(10), CacheConfig(enabled=True))
    first = ctx()
    await answered(policy, first)
    assert headers(first)[b"x-tollhouse-cache"] == b"miss"
    second = ctx()
    reply = await policy.enter(second)
    assert isinstance(reply, Reply) and reply.body == b'{"answer": 1}'
    assert reply.content_type == b"application/json" and reply.reason == "cache_hit"
    assert headers(second)[b"x-tollhouse-cache"] == b"hit" and headers(second)[b"age"] == b"0"
    assert second.response_body == reply.body and second.usage is None


async def test_a_stream_is_replayed_as_a_stream_with_its_final_event() -> None:
    policy = ResponseCache(MemoryStore(10), CacheConfig(enabled=True))
    first = ctx(stream=True)
    await answered(policy, first)
    assert first.capture_stream
    reply = await policy.enter(ctx(stream=True))
    assert isinstance(reply, Reply) and reply.content_type == SSE
    assert reply.body == b"data: {}\n\ndata: [DONE]\n\n"
    assert await policy.enter(ctx(stream=False)) is None  # a stream's answer is not a JSON answer


@pytest.mark.parametrize("failure", ["status", "error_code", "empty", "too_big"])
async def test_failed_or_oversized_answers_are_never_stored(failure: str) -> None:
    policy = ResponseCache(MemoryStore(10), CacheConfig(enabled=True, max_entry_bytes=100))
    c = ctx()
    assert await policy.enter(c) is None
    c.status, c.response_body = 200, b"{}"
    if failure == "status":
        c.status = 502
    elif failure == "error_code":
        c.error_code = "content_filter"  # e.g. a guard refused the answer after it arrived
    elif failure == "empty":
        c.response_body = b""
    else:
        c.response_body = b"x" * 101
    await policy.exit(c)
    assert await policy.enter(ctx()) is None


async def test_another_tenant_never_gets_the_answer_unless_shared() -> None:
    store = MemoryStore(10)
    policy = ResponseCache(store, CacheConfig(enabled=True))
    await answered(policy, ctx())
    assert await policy.enter(ctx(principal=Principal("user", "eve", org_id="globex"))) is None
    assert isinstance(await policy.enter(ctx(principal=Principal("agent", "bot", org_id="acme"))), Reply)
    shared = ResponseCache(MemoryStore(10), CacheConfig(enabled=True, scope="shared"))
    await answered(shared, ctx())
    assert isinstance(await shared.enter(ctx(principal=Principal("user", "eve", org_id="globex"))), Reply)


async def test_no_store_bypasses_and_no_cache_refreshes() -> None:
    policy = ResponseCache(MemoryStore(10), CacheConfig(enabled=True))
    bypass = ctx(**{"cache-control": "no-store"})
    assert await policy.enter(bypass) is None and bypass.cache_key is None
    assert headers(bypass)[b"x-tollhouse-cache"] == b"bypass"
    await answered(policy, ctx(), b'{"v": 1}')
    refresh = ctx(**{"cache-control": "no-cache"})
    await answered(policy, refresh, b'{"v": 2}')
    assert headers(refresh)[b"x-tollhouse-cache"] == b"miss"
    reply = await policy.enter(ctx())
    assert isinstance(reply, Reply) and reply.body == b'{"v": 2}'


async def test_only_configured_surfaces_and_models_are_cached() -> None:
    policy = ResponseCache(MemoryStore(10), CacheConfig(enabled=True, models=["other"], surfaces=["chat"]))
    c = ctx()
    assert await policy.enter(c) is None and c.cache_key is None and c.response_headers is None


async def test_a_failing_store_is_a_miss_not_an_error() -> None:
    class Broken(MemoryStore):
        async def get(self, key: str) -> bytes | None:
            raise ConnectionError("down")

        async def set(self, key: str, value: bytes, ttl_s: float) -> None:
            raise ConnectionError("down")

    policy = ResponseCache(Broken(10), CacheConfig(enabled=True))
    c = ctx()
    await answered(policy, c)
    assert headers(c)[b"x-tollhouse-cache"] == b"miss"
