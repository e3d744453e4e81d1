"""The `tollhouse` command: config check/schema, and serve with several workers."""

from __future__ import annotations

import json
import os
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
import yaml

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, UPSTREAM_KEY, upstream_config
from tests.support.served import TOLLHOUSE, metric, served_process


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TOLLHOUSE, *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "COLUMNS": "200", **(env or {})},
    )


def test_config_schema_is_json_schema() -> None:
    result = run("config", "schema")
    schema = json.loads(result.stdout)
    assert schema["type"] == "object" and "models" in schema["properties"]


def test_config_check_ok(tmp_path: Path) -> None:
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(upstream_config("http://127.0.0.1:9/v1")))
    result = run("config", "check", str(path))
    assert result.returncode == 0, result.stderr
    assert "ok" in result.stdout


def test_config_check_names_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(
        "auth:\n  master_keys: [env:TH_TEST_UNSET_KEY]\n"
        "models:\n  - alias: a\n    target: demo/x\n  - alias: b\n    target: nonsense\n"
    )
    result = run("config", "check", str(path))
    assert result.returncode == 1
    assert f"{path}:7:13" in result.stderr and "models.1.target" in result.stderr
    path.write_text(
        "auth:\n  master_keys: [env:TH_TEST_UNSET_KEY]\nmodels:\n  - {alias: a, target: nope/x}\n"
    )
    result = run("config", "check", str(path))
    assert result.returncode == 1
    assert "TH_TEST_UNSET_KEY is not set" in result.stderr and "unknown provider 'nope'" in result.stderr


def test_config_check_yaml_syntax(tmp_path: Path) -> None:
    path = tmp_path / "syntax.yaml"
    path.write_text("auth:\n  master_keys: [a\nmodels: {\n")
    result = run("config", "check", str(path))
    assert result.returncode == 1 and "YAML syntax" in result.stderr


@pytest.fixture
def served(tmp_path: Path, fake_openai: FakeOpenAI) -> Iterator[tuple[str, Path]]:
    """`tollhouse serve --workers 2` as a real process; yields its URL and its log file."""
    config = upstream_config(fake_openai.base_url, check_upstreams_on_ready=True)
    config["logging"] = {"level": "debug"}
    with served_process(config, tmp_path) as served:
        yield served


def test_workers_share_metrics_and_logs_hold_no_secrets(
    served: tuple[str, Path], fake_openai: FakeOpenAI
) -> None:
    import urllib.request

    url, log = served
    client = openai.OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=10)
    # Fresh connections spread requests over both workers.
    for i in range(20):
        with openai.OpenAI(base_url=f"{url}/v1", api_key=CLIENT_KEY, max_retries=0) as c:
            c.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": f"m{i}"}])
    # Failures whose upstream answers echo keys, and a bad client key.
    for model in ("error-401", "error-500", "garbage"):
        with pytest.raises(openai.APIStatusError):
            client.chat.completions.create(model=model, messages=[{"role": "user", "content": "x"}])
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(
            base_url=f"{url}/v1", api_key="sk-wrong-but-secret-ish-777", max_retries=0
        ).models.list()

    pids = set()
    # Workers publish their aggregates every second; once published, every scrape, whichever
    # worker answers it, sees all 20 requests.
    deadline = time.monotonic() + 5
    while True:
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        seen = metric(text, "tollhouse_requests_total", surface="chat", model="gpt-test", status="200")
        if seen == 20 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    for _ in range(10):
        with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:
            text = resp.read().decode()
        assert metric(text, "tollhouse_requests_total", surface="chat", model="gpt-test", status="200") == 20
        assert metric(text, "tollhouse_tokens_total", model="gpt-test", kind="completion") > 0
        assert metric(text, "tollhouse_request_duration_seconds_count", model="gpt-test") == 20
    with urllib.request.urlopen(f"{url}/readyz", timeout=5) as resp:
        ready = json.loads(resp.read())
    assert ready["status"] == "ready" and ready["providers"] == {"fake": True}
    for line in log.read_text().splitlines():
        if "Started server process" in line:
            pids.add(line.rsplit("[", 1)[1])
    assert len(pids) == 2, log.read_text()

    text = log.read_text()
    assert "ended with 502" in text  # the failures were logged…
    for secret in (CLIENT_KEY, UPSTREAM_KEY, "sk-wrong-but-secret-ish-777", "Incorrect API key"):
        assert secret not in text  # …without a secret in any line
