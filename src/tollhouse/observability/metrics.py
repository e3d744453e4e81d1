"""Prometheus metrics, correct across worker processes and cheap per request.

With several workers, ``PROMETHEUS_MULTIPROC_DIR`` (set by ``tollhouse serve``) makes every
worker write to shared memory-mapped files, and a scrape of any worker aggregates them all.
Observations are aggregated in plain dicts and applied to the families in bulk.
"""

from __future__ import annotations

import asyncio
import os
from bisect import bisect_left
from typing import Any, Protocol

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import multiprocess as prom_multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from tollhouse.background import stop_task

_LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)
_LABELS = ("surface", "model", "provider")
# The layout of an aggregate row: counters, then the latency and TTFT histogram buckets.
_BUCKETS = len(_LATENCY_BUCKETS) + 1  # with +Inf
_N, _PROMPT, _COMPLETION, _LATENCY_SUM, _TTFT_SUM = range(5)
_LATENCY = 5
_TTFT = _LATENCY + _BUCKETS
_ROW = _TTFT + _BUCKETS


class MetricSource(Protocol):
    """Metric families kept up to date from a component's own counters (the audit writer's),
    read when the metrics are flushed rather than updated per request."""

    def update(self) -> None: ...


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
        # Per-request observations are aggregated here, one row per label set, and applied to
        # the prometheus families in bulk (on scrape, and every second so other workers'
        # scrapes see them): a request costs one dict lookup and a few list updates instead of
        # five locked increments and a bucket scan.
        self._bounds = (*_LATENCY_BUCKETS, float("inf"))
        self._rows: dict[tuple[str, str, str, int, str | None], list[float]] = {}
        self._flusher: asyncio.Task[None] | None = None
        self._sources: list[MetricSource] = []

    def start(self) -> None:
        """With several workers, publish every second from now on, not from the first request:
        a worker that serves none still shows its sources (the audit writer's last commit)."""
        if self._flusher is None and self.multiprocess:
            self._flusher = asyncio.get_running_loop().create_task(self._flush_every(1.0))

    def add_source(self, source: MetricSource) -> None:
        """Have ``source`` update its families whenever the metrics are flushed."""
        self._sources.append(source)

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
        key = (surface, model, provider, status, error_code)
        row = self._rows.get(key)
        if row is None:
            row = self._rows[key] = [0.0] * _ROW
        row[_N] += 1
        row[_PROMPT] += prompt_tokens
        row[_COMPLETION] += completion_tokens
        row[_LATENCY_SUM] += duration
        row[_LATENCY + bisect_left(self._bounds, duration)] += 1
        if ttft is not None:
            row[_TTFT_SUM] += ttft
            row[_TTFT + bisect_left(self._bounds, ttft)] += 1
        if self._flusher is None and self.multiprocess:
            self.start()

    def flush(self) -> None:
        """Apply the pending aggregates (and the sources' counts) to the prometheus families."""
        for source in self._sources:
            source.update()
        rows, self._rows = self._rows, {}
        for (surface, model, provider, status, code), row in rows.items():
            base = (surface, model, provider)
            self._child(self.requests, (*base, str(status))).inc(row[_N])
            if row[_PROMPT]:
                self._child(self.tokens, (*base, "prompt")).inc(row[_PROMPT])
            if row[_COMPLETION]:
                self._child(self.tokens, (*base, "completion")).inc(row[_COMPLETION])
            if code is not None:
                self._child(self.errors, (*base, code)).inc(row[_N])
            self._add_histogram(self._child(self.latency, base), row, _LATENCY, _LATENCY_SUM)
            if any(row[_TTFT:]):
                self._add_histogram(self._child(self.ttft, base), row, _TTFT, _TTFT_SUM)

    @staticmethod
    def _add_histogram(child: Any, row: list[float], first: int, total: int) -> None:
        # Bulk-adding to a histogram has no public API; _buckets/_sum have been stable across
        # prometheus_client releases (and are mmap-backed in multiprocess mode).
        for index in range(_BUCKETS):
            count = row[first + index]
            if count:
                child._buckets[index].inc(count)
        child._sum.inc(row[total])

    async def _flush_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            self.flush()

    async def close(self) -> None:
        await stop_task(self._flusher)
        self._flusher = None
        self.flush()

    def render(self) -> bytes:
        """The exposition text; call ``flush()`` first, on the event loop that records."""
        if self.multiprocess:
            registry = CollectorRegistry()
            prom_multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)
