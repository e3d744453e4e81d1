"""Prometheus metrics, correct across worker processes and cheap per request.

With several workers, ``PROMETHEUS_MULTIPROC_DIR`` (set by ``tollhouse serve``) makes every
worker write to shared memory-mapped files, and a scrape of any worker aggregates them all.
Labelled children are cached per label tuple, so a request costs a dict lookup and three
increments.
"""

from __future__ import annotations

import os
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prom_multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_LABELS = ("surface", "model", "provider")


class Metrics:
    """The gateway's metric families, registered in a registry of its own (no globals)."""

    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        reg = self.registry
        self.requests = Counter("tollhouse_requests", "Requests served.", (*_LABELS, "status"), registry=reg)
        self.latency = Histogram(
            "tollhouse_request_duration_seconds",
            "Time to the last byte.",
            _LABELS,
            buckets=_LATENCY_BUCKETS,
            registry=reg,
        )
        self.ttft = Histogram(
            "tollhouse_time_to_first_token_seconds",
            "Time to the first streamed token.",
            _LABELS,
            buckets=_LATENCY_BUCKETS,
            registry=reg,
        )
        self.tokens = Counter(
            "tollhouse_tokens", "Tokens reported by providers.", (*_LABELS, "kind"), registry=reg
        )
        self.errors = Counter(
            "tollhouse_errors", "Requests that ended in an error.", (*_LABELS, "code"), registry=reg
        )
        self._children: dict[tuple[str, ...], Any] = {}

    def _child(self, family: Any, labels: tuple[str, ...]) -> Any:
        key = (family._name, *labels)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = family.labels(*labels)
        return child

    def record(
        self,
        surface: str,
        model: str,
        provider: str,
        status: int,
        duration: float,
        ttft: float | None = None,
        prompt_tokens: int = 0,
        completion_tokens: int = 0,
        error_code: str | None = None,
    ) -> None:
        base = (surface, model, provider)
        self._child(self.requests, (*base, str(status))).inc()
        self._child(self.latency, base).observe(duration)
        if ttft is not None:
            self._child(self.ttft, base).observe(ttft)
        if prompt_tokens:
            self._child(self.tokens, (*base, "prompt")).inc(prompt_tokens)
        if completion_tokens:
            self._child(self.tokens, (*base, "completion")).inc(completion_tokens)
        if error_code is not None:
            self._child(self.errors, (*base, error_code)).inc()

    def render(self) -> bytes:
        if self.multiprocess:
            registry = CollectorRegistry()
            prom_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)
