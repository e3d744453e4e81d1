"""`tollhouse audit …` as an operator runs it, against a trail the real gateway wrote."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import openai
import pytest
import yaml

from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.test_audit_gateway import audit_config
from tests.support.gateway import CLIENT_KEY, RunningGateway
from tollhouse.audit.signing import load_private_key

TOLLHOUSE = [sys.executable, "-m", "tollhouse.cli.main", "audit"]


def audit(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*TOLLHOUSE, *args], capture_output=True, text=True, timeout=60, env={**os.environ, "COLUMNS": "200"}
    )


@pytest.fixture
def trail(tmp_path: Path, upstream: FakeOpenAI) -> tuple[Path, Path]:
    """A config file and the database a gateway built from it wrote (two calls in one session)."""
    db = tmp_path / "gw.db"
    config = audit_config(upstream.base_url, db, "async")
    config["audit"]["checkpoints"]["witness_file"] = str(tmp_path / "witness.jsonl")
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump(config))
    with RunningGateway(config) as gw:
        client = openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0)
        for question in ("first question", "second question"):
            client.chat.completions.create(
                model="gpt-test",
                messages=[{"role": "user", "content": question}],
                extra_headers={"x-tollhouse-session": "task-7"},
            )
    return path, db


def test_keygen_prints_usable_keys() -> None:
    result = audit("keygen")
    assert result.returncode == 0 and "public key:" in result.stderr
    load_private_key(result.stdout)
    content = audit("keygen", "--content")
    assert content.returncode == 0 and len(content.stdout.strip()) == 44


def test_verify_search_session_export(trail: tuple[Path, Path], tmp_path: Path) -> None:
    config, _db = trail
    verified = audit("verify", "-c", str(config), "--witness", str(tmp_path / "witness.jsonl"))
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert "ok" in verified.stdout and "closed" in verified.stdout
    found = audit("search", "-c", str(config), "--session", "task-7", "--type", "llm.response")
    records = [json.loads(line) for line in found.stdout.splitlines()]
    assert len(records) == 2 and all(r["status"] == 200 and r["hash"] for r in records)
    tree = audit("session", "task-7", "-c", str(config), "--reveal")
    assert tree.returncode == 0, tree.stderr
    assert "session task-7: 2 calls" in tree.stdout and "first question" in tree.stdout
    assert "llm.request" in tree.stdout and "llm.response" in tree.stdout
    hidden = audit("session", "task-7", "-c", str(config))
    assert "first question" not in hidden.stdout and "[not revealed]" in hidden.stdout
    exported = tmp_path / "export.jsonl"
    result = audit("export", "-c", str(config), "--out", str(exported))
    lines = [json.loads(line) for line in exported.read_text().splitlines()]
    assert result.returncode == 0 and lines[0]["type"] == "chain.start" and lines[-1]["type"] == "chain.close"
    assert [line["seq"] for line in lines] == list(range(len(lines)))
    keys = json.loads(audit("public-key", "-c", str(config)).stdout)
    assert keys["algorithm"] == "Ed25519" and len(keys["keys"]) == 1


def test_verify_fails_and_names_the_record_after_tampering(trail: tuple[Path, Path]) -> None:
    config, db = trail
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE audit_records SET body = replace(body, '\"status\":200', '\"status\":204') WHERE seq = 2"
        )
    result = audit("verify", "-c", str(config), "--json")
    assert result.returncode == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert (report["problems"][0]["seq"], report["problems"][0]["kind"]) == (2, "modified")


def test_verify_of_a_chain_that_is_not_there_fails(trail: tuple[Path, Path]) -> None:
    config, _db = trail
    result = audit("verify", "-c", str(config), "--chain", "no-such-chain")
    assert result.returncode == 1 and "missing" in result.stdout and "no such chain" in result.stdout


def test_shred_makes_content_unreadable(trail: tuple[Path, Path]) -> None:
    config, _db = trail
    result = audit("shred", "_default", "-c", str(config), "--yes")
    assert result.returncode == 0 and "shredded 1" in result.stdout
    tree = audit("session", "task-7", "-c", str(config), "--reveal")
    assert "first question" not in tree.stdout and "shredded" in tree.stdout
    assert audit("verify", "-c", str(config)).returncode == 0
