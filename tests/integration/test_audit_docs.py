"""The auditor's snippet in docs/audit.md verifies a real export, and catches a tampered one."""

from __future__ import annotations

import asyncio
import base64
import json
import re
import subprocess
import sys
from pathlib import Path

import openai

from tests.fakes.openai_upstream import FakeOpenAI
from tests.integration.test_audit_gateway import audit_config
from tests.support.audit_chain import signer
from tests.support.gateway import CLIENT_KEY, RunningGateway
from tollhouse.audit.export import export_jsonl
from tollhouse.audit.service import AuditService
from tollhouse.audit.signing import public_raw
from tollhouse.storage.engine import create_engine

DOC = Path(__file__).resolve().parents[2] / "docs" / "audit.md"


async def _export(db: Path, out: Path) -> int:
    engine = create_engine(f"sqlite:///{db}")
    try:
        with out.open("w", encoding="utf-8") as target:
            return await export_jsonl(AuditService(engine), target, None, None, None)
    finally:
        await engine.dispose()


def _run(snippet: Path, log: Path, witness: Path, key: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(snippet), str(log), str(witness), key],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_docs_snippet_verifies_an_export(tmp_path: Path, upstream: FakeOpenAI) -> None:
    (code,) = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.S)
    assert re.findall(r"^(?:import|from) (\S+)", code, flags=re.M) == [
        "base64",
        "hashlib",
        "json",
        "sys",
        "cryptography.hazmat.primitives.asymmetric.ed25519",
    ]
    snippet = tmp_path / "verify_log.py"
    snippet.write_text(code)
    db, witness = tmp_path / "gw.db", tmp_path / "witness.jsonl"
    config = audit_config(upstream.base_url, db, "async")
    config["audit"]["checkpoints"] |= {"witness_file": str(witness), "every": 3}
    with RunningGateway(config) as gw:
        client = openai.OpenAI(base_url=gw.base_url, api_key=CLIENT_KEY, max_retries=0)
        for n in range(4):
            client.chat.completions.create(
                model="gpt-test", messages=[{"role": "user", "content": f"héllo {n} ✓"}]
            )
    log = tmp_path / "log.jsonl"
    count = asyncio.run(_export(db, log))
    key = base64.b64encode(public_raw(signer().public_key)).decode()
    result = _run(snippet, log, witness, key)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"ok: {count} records in 1 chains"

    lines = log.read_text(encoding="utf-8").splitlines()
    record = json.loads(lines[3])
    record["status"] = 201
    lines[3] = json.dumps(record, ensure_ascii=False)
    log.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tampered = _run(snippet, log, witness, key)
    assert tampered.returncode == 1 and "record 3 does not match its hash" in tampered.stderr
