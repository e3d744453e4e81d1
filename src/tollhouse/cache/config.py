"""The `cache:` config section: the exact-match response cache and the semantic cache.

It lives here rather than in ``config/schema.py`` so the cache area owns its settings;
``GatewayConfig`` holds one field for it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

CacheSurface = Literal["chat", "embeddings", "messages", "responses"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SemanticCacheConfig(_Section):
    """Reuse the answer to a *similar* prompt (needs the `ml` extra: the packaged MiniLM model)."""

    threshold: Annotated[
        float, Field(gt=0, le=1, description="Cosine similarity a prompt needs to reuse an answer.")
    ] = 0.95
    max_entries: Annotated[
        int, Field(ge=1, description="Prompts kept per tenant and request shape (oldest go first).")
    ] = 2000
    max_groups: Annotated[
        int, Field(ge=1, description="Tenant-and-shape groups kept (least recently used go first).")
    ] = 1000


class CacheConfig(_Section):
    """Answers served again without calling the provider, scoped per tenant unless shared."""

    enabled: bool = False
    backend: Annotated[
        Literal["memory", "sqlite", "redis"],
        Field(description="`sqlite` keeps the memory cache across restarts; `redis` shares it."),
    ] = "memory"
    path: Annotated[str, Field(description="The SQLite file (`backend: sqlite`).")] = "tollhouse-cache.db"
    ttl_s: Annotated[float, Field(gt=0, description="How long an answer is served again.")] = 300.0
    max_entries: Annotated[int, Field(ge=1, description="Memory backends: least recently used go first.")] = (
        10_000
    )
    max_entry_bytes: Annotated[int, Field(ge=1, description="Larger answers are not cached.")] = 1 << 20
    scope: Annotated[
        Literal["tenant", "principal", "shared"],
        Field(
            description="`tenant`: per organisation (else per caller); `principal`: per caller; "
            "`shared`: one cache for everyone."
        ),
    ] = "tenant"
    models: Annotated[list[str], Field(description="Aliases to cache (empty: all).")] = []
    surfaces: Annotated[list[CacheSurface], Field(description="Which APIs' answers are cached.")] = [
        "chat",
        "embeddings",
        "messages",
        "responses",
    ]
    key_prefix: Annotated[str, Field(description="Redis key prefix (`backend: redis`).")] = "tollhouse:cache:"
    semantic: Annotated[
        SemanticCacheConfig | None,
        Field(description="Also answer prompts similar to a cached one (chat, messages, responses)."),
    ] = None
