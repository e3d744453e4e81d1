"""Metrics: per-request aggregates reach the Prometheus exposition with the right values."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tollhouse.observability.metrics import Metrics


def _samples(metrics: Metrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    metrics.flush()
    text = metrics.render().decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _get(samples: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return samples[(name, frozenset(labels.items()))]


@pytest.fixture
def metrics(monkeypatch: pytest.MonkeyPatch) -> Metrics:
    monkeypatch.delenv("PROMETHEUS_MULTIPROC_DIR", raising=False)
    return Metrics()


def test_requests_tokens_errors_and_histograms(metrics: Metrics) -> None:
    base = {"surface": "chat", "model": "m", "provider": "p"}
    metrics.record("chat", "m", "p", 200, 0.004, ttft=0.002, prompt_tokens=10, completion_tokens=5)
    metrics.record("chat", "m", "p", 200, 0.2, prompt_tokens=7, completion_tokens=3)
    metrics.record("chat", "m", "p", 502, 0.03, error_code="upstream_error")
    samples = _samples(metrics)
    assert _get(samples, "tollhouse_requests_total", **base, status="200") == 2
    assert _get(samples, "tollhouse_requests_total", **base, status="502") == 1
    assert _get(samples, "tollhouse_errors_total", **base, code="upstream_error") == 1
    assert _get(samples, "tollhouse_tokens_total", **base, kind="prompt") == 17
    assert _get(samples, "tollhouse_tokens_total", **base, kind="completion") == 8
    latency = "tollhouse_request_duration_seconds"
    assert _get(samples, latency + "_count", **base) == 3
    assert _get(samples, latency + "_sum", **base) == pytest.approx(0.234)
    assert _get(samples, latency + "_bucket", **base, le="0.005") == 1
    assert _get(samples, latency + "_bucket", **base, le="0.05") == 2
    assert _get(samples, latency + "_bucket", **base, le="+Inf") == 3
    ttft = "tollhouse_time_to_first_token_seconds"
    assert _get(samples, ttft + "_count", **base) == 1
    assert _get(samples, ttft + "_bucket", **base, le="0.001") == 0
    assert _get(samples, ttft + "_bucket", **base, le="0.0025") == 1


def test_flushes_accumulate(metrics: Metrics) -> None:
    metrics.record("embeddings", "e", "p", 200, 0.01)
    _samples(metrics)
    metrics.record("embeddings", "e", "p", 200, 0.01)
    samples = _samples(metrics)
    labels = {"surface": "embeddings", "model": "e", "provider": "p"}
    assert _get(samples, "tollhouse_requests_total", **labels, status="200") == 2
    assert ("tollhouse_time_to_first_token_seconds_count", frozenset(labels.items())) not in samples


class _Counted:
    """A metric source that counts how often the metrics asked it to update."""

    def __init__(self) -> None:
        self.updates = 0

    def update(self) -> None:
        self.updates += 1


async def test_workers_publish_their_sources_from_startup_not_from_the_first_request(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    metrics = Metrics()
    source = _Counted()
    metrics.add_source(source)
    metrics.start()  # what the app's startup does; no request recorded
    await asyncio.sleep(1.2)
    await metrics.close()
    assert source.updates >= 2  # once a second, then once more on close
