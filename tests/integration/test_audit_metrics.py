"""The audit writer's health on /metrics, from a real multi-worker gateway."""

from __future__ import annotations

import time
import urllib.request
from pathlib import Path

import openai

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, upstream_config
from tests.support.served import metric, served_process


def _scrape(url: str) -> str:
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
        return str(resp.read().decode())


def test_two_workers_report_their_audit_writers_on_metrics(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    config = upstream_config(fake_openai.base_url)
    config["database"] = {"url": f"sqlite:///{tmp_path / 'gw.db'}"}
    config["audit"] = {"enabled": True, "mode": "async", "flush_interval_s": 0.05, "queue_size": 1000}
    with served_process(config, tmp_path, workers=2) as (url, _):
        # Before any call (a worker may serve none), both workers publish their writers' state.
        deadline = time.monotonic() + 10
        while metric(text := _scrape(url), "tollhouse_audit_queue_capacity") < 2 * 1000:
            assert time.monotonic() < deadline, text
            time.sleep(0.2)
        assert metric(text, "tollhouse_audit_records_total") == 2  # each chain's chain.start
        for i in range(10):  # fresh connections spread the calls over both workers
            with openai.OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0) as client:
                client.chat.completions.create(
                    model="gpt-test", messages=[{"role": "user", "content": f"m{i}"}]
                )
        # Each worker's chain: its chain.start record, then two records a call. Workers publish
        # their counts every second; any scrape then sees both.
        deadline = time.monotonic() + 10
        while metric(text := _scrape(url), "tollhouse_audit_records_total") < 2 + 20:
            assert time.monotonic() < deadline, text
            time.sleep(0.2)
    assert metric(text, "tollhouse_audit_records_total") == 2 + 20
    commits = metric(text, "tollhouse_audit_commits_total", outcome="ok")
    assert commits >= 2 and metric(text, "tollhouse_audit_commits_total", outcome="failed") == 0
    assert metric(text, "tollhouse_audit_commit_duration_seconds_count") == commits
    assert metric(text, "tollhouse_audit_queue_capacity") == 2 * 1000  # summed over live workers
    assert metric(text, "tollhouse_audit_queue_depth") == 0
    assert metric(text, "tollhouse_audit_dropped_records_total", reason="queue_full") == 0
    assert "tollhouse_audit_dropped_records_total{" in text  # shown before any loss, for alerts
    assert time.time() - metric(text, "tollhouse_audit_last_commit_timestamp_seconds") < 60
