"""The response cache: a hit answers the call at LOOKUP; a successful answer is stored at exit.

The key is the canonical request and the caller's tenant (see ``cache.key``). A hit replays
the bytes the first caller got — JSON, or the whole SSE stream — with ``x-tollhouse-cache:
hit`` and ``age``. Storing happens in ``exit``, after the answer went out and after every
post-phase policy spoke, so only answers the caller received whole with status 200 are
kept: errors, refusals by a later policy and broken or abandoned streams never are.

With a semantic index (``cache.semantic``), an exact miss on chat, messages or responses
embeds the prompt and replays the answer to the most similar cached prompt of the same
tenant and request shape (``x-tollhouse-cache: semantic``); the answer a miss gets is indexed
under its prompt when it is stored.

``Cache-Control`` from the caller: ``no-store`` skips the cache both ways, ``no-cache``
(or ``max-age=0``) skips the lookup but stores the fresh answer, ``max-age=N`` accepts
only answers stored within N seconds.
"""

from __future__ import annotations

import logging
import time

from tollhouse.cache.config import CacheConfig
from tollhouse.cache.entry import CachedAnswer
from tollhouse.cache.key import cache_key, tenant_of
from tollhouse.cache.semantic import SURFACES as SEMANTIC_SURFACES
from tollhouse.cache.semantic import SemanticIndex, Vector, group_of, prompt_text
from tollhouse.cache.store import CacheStore
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Outcome, Reply
from tollhouse.pipeline.phases import CallKind, Phase
from tollhouse.pipeline.policy import Policy

log = logging.getLogger("tollhouse.cache")

SSE = b"text/event-stream; charset=utf-8"
JSON = b"application/json"
_OPENAI_DONE = b"data: [DONE]\n\n"
_WARN_EVERY_S = 30.0


def directives(value: str | None) -> tuple[bool, float | None]:
    """``(no_store, max_age)`` from a ``Cache-Control`` header; ``no-cache`` is max-age 0."""
    if not value:
        return False, None
    no_store, max_age = False, None
    for part in value.lower().split(","):
        name, _, arg = part.strip().partition("=")
        if name == "no-store":
            no_store = True
        elif name == "no-cache":
            max_age = 0.0
        elif name == "max-age" and arg.strip().isdigit():
            seconds = float(arg.strip())
            max_age = seconds if max_age is None else min(max_age, seconds)
    return no_store, max_age


def _header(ctx: RequestContext, *pairs: tuple[bytes, bytes]) -> None:
    if ctx.response_headers is None:
        ctx.response_headers = list(pairs)
    else:
        ctx.response_headers.extend(pairs)


class ResponseCache(Policy):
    """Exact-match answers by canonical request and tenant, from one ``CacheStore``."""

    name = "cache"
    phase = Phase.LOOKUP
    kinds = frozenset({CallKind.LLM})

    def __init__(self, store: CacheStore, config: CacheConfig, semantic: SemanticIndex | None = None) -> None:
        self._store = store
        self._semantic = semantic
        # Misses whose answer is to be indexed once stored: exact key → (group, prompt vector).
        self._pending: dict[str, tuple[str, Vector]] = {}
        self._ttl = config.ttl_s
        self._max_bytes = config.max_entry_bytes
        self._scope = config.scope
        self._surfaces = frozenset(config.surfaces)
        self._models = frozenset(config.models)
        self._warned_at = -_WARN_EVERY_S

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        if ctx.surface not in self._surfaces or (self._models and ctx.model not in self._models):
            return None
        no_store, max_age = directives(ctx.headers.get("cache-control"))
        if no_store:
            _header(ctx, (b"x-tollhouse-cache", b"bypass"))
            return None
        tenant = tenant_of(ctx, self._scope)
        key = cache_key(ctx, tenant)
        if max_age != 0.0:
            hit = await self._fresh(ctx, key, max_age)
            if hit is not None:
                return hit
        if self._semantic is not None and ctx.surface in SEMANTIC_SURFACES:
            hit = await self._similar(ctx, self._semantic, tenant, key, max_age)
            if hit is not None:
                return hit
        ctx.cache_key = key
        if ctx.stream:
            ctx.capture_stream = True  # the stream's bytes, to store at exit
        _header(ctx, (b"x-tollhouse-cache", b"miss"))
        return None

    async def exit(self, ctx: RequestContext) -> None:
        key = ctx.cache_key
        if key is None:
            return
        pending = self._pending.pop(key, None) if self._semantic is not None else None
        if ctx.status != 200 or ctx.error_code is not None:
            return
        if ctx.stream:
            if not ctx.stream_capture:
                return
            body, content_type = b"".join(ctx.stream_capture), SSE
            if ctx.dialect == "openai" and not body.endswith(_OPENAI_DONE):
                body += _OPENAI_DONE  # the OpenAI sender keeps its final event out of the capture
        else:
            body, content_type = ctx.response_body or b"", JSON
        if not body or len(body) > self._max_bytes:
            return
        try:
            await self._store.set(key, CachedAnswer(body, content_type, time.time()).encode(), self._ttl)
        except Exception as exc:
            self._warn("store", exc)
            return
        if pending is not None and self._semantic is not None:
            self._semantic.add(pending[0], key, pending[1])

    async def _fresh(
        self, ctx: RequestContext, key: str, max_age: float | None, similarity: float | None = None
    ) -> Reply | None:
        """The replay of the answer under ``key``, if there is one young enough."""
        answer = await self._lookup(key)
        if answer is None:
            return None
        age = time.time() - answer.stored_at
        if max_age is not None and age > max_age:
            return None
        return self._replay(ctx, answer, age, similarity)

    async def _similar(
        self, ctx: RequestContext, semantic: SemanticIndex, tenant: str, key: str, max_age: float | None
    ) -> Reply | None:
        group = group_of(ctx, tenant)
        try:
            vector = await semantic.embed(prompt_text(ctx))
        except Exception as exc:  # no vector: an exact-only miss, never a failed call
            self._warn("embedding", exc)
            return None
        found = semantic.nearest(group, vector) if max_age != 0.0 else None
        if found is not None:
            hit = await self._fresh(ctx, found[0], max_age, found[1])
            if hit is not None:
                return hit
        self._pending[key] = (group, vector)
        return None

    async def _lookup(self, key: str) -> CachedAnswer | None:
        try:
            raw = await self._store.get(key)
        except Exception as exc:  # a cache that cannot answer is a miss, never a failed call
            self._warn("lookup", exc)
            return None
        return CachedAnswer.decode(raw) if raw is not None else None

    def _replay(
        self, ctx: RequestContext, answer: CachedAnswer, age: float, similarity: float | None = None
    ) -> Reply:
        ctx.response_body = answer.body
        overhead_ms = (time.perf_counter() - ctx.started) * 1000
        _header(
            ctx,
            (b"x-tollhouse-cache", b"hit" if similarity is None else b"semantic"),
            (b"age", str(int(age)).encode()),
            (b"x-tollhouse-overhead-ms", f"{overhead_ms:.3f}".encode()),
        )
        if similarity is not None:
            _header(ctx, (b"x-tollhouse-cache-similarity", f"{similarity:.4f}".encode()))
        if answer.content_type == SSE:
            _header(ctx, (b"cache-control", b"no-cache"))
        return Reply(answer.body, "cache_hit", self.name, content_type=answer.content_type)

    def _warn(self, what: str, exc: Exception) -> None:
        now = time.monotonic()
        if now - self._warned_at >= _WARN_EVERY_S:  # once per interval, not once per call
            self._warned_at = now
            log.warning("cache %s failed (%s); calls go to the provider", what, type(exc).__name__)
