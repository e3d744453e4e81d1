"""Config → the cache parts of the runtime: the policy, its store and semantic index, their lifecycles."""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tollhouse.cache.lifecycle import StoreLifecycle
from tollhouse.cache.semantic import SemanticIndex
from tollhouse.cache.store import CacheStore
from tollhouse.config.load import ConfigIssue
from tollhouse.config.secrets import Secret, SecretError
from tollhouse.guards.ml import INSTALL as ML_INSTALL
from tollhouse.guards.ml import MODULES as ML_MODULES
from tollhouse.pipeline.policy import Policy

if TYPE_CHECKING:
    from tollhouse.config.runtime import Observer
    from tollhouse.config.schema import GatewayConfig


_ML_MODULES = ML_MODULES  # the `ml` extra


@dataclass(frozen=True, slots=True)
class CacheParts:
    policies: tuple[Policy, ...] = ()
    observers: tuple[Observer, ...] = ()


def _store(config: GatewayConfig, issues: list[ConfigIssue], secrets: list[Secret]) -> CacheStore | None:
    cache = config.cache
    if cache.backend == "memory":
        from tollhouse.cache.memory import MemoryStore

        return MemoryStore(cache.max_entries)
    if cache.backend == "sqlite":
        from tollhouse.cache.sqlite_store import SqliteStore

        return SqliteStore(cache.path, cache.max_entries)
    if config.redis.url is None:
        issues.append(ConfigIssue("cache.backend", "`redis` needs `redis.url`"))
        return None
    try:
        url = config.redis.url.resolve()
    except SecretError as exc:
        issues.append(ConfigIssue("redis.url", str(exc)))
        return None
    secrets.append(url)
    from tollhouse.cache.redis_store import RedisStore

    return RedisStore(url.reveal(), cache.key_prefix)


def _semantic(config: GatewayConfig, issues: list[ConfigIssue]) -> SemanticIndex | None:
    settings = config.cache.semantic
    if settings is None:
        return None
    missing = [name for name in _ML_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        issues.append(
            ConfigIssue(
                "cache.semantic",
                f"needs the `ml` extra ({ML_INSTALL}); missing: {', '.join(missing)}",
            )
        )
        return None
    return SemanticIndex(settings)


def build_cache(config: GatewayConfig, issues: list[ConfigIssue], secrets: list[Secret]) -> CacheParts:
    """The cache policy (LOOKUP phase), its store and semantic index, or nothing when off."""
    if not config.cache.enabled:
        return CacheParts()
    store = _store(config, issues, secrets)
    semantic = _semantic(config, issues)
    if store is None:
        return CacheParts()
    from tollhouse.policies.cache import ResponseCache

    lifecycles = (StoreLifecycle(store), *([StoreLifecycle(semantic)] if semantic is not None else []))
    return CacheParts((ResponseCache(store, config.cache, semantic),), lifecycles)
