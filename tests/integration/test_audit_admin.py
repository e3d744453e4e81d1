"""The audit trail on the admin API: its endpoints by role, and admin changes in the chain."""

from __future__ import annotations

import asyncio
import base64
import http.client
import json
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.audit_chain import MASTER_KEY, SIGNING_KEY, signer
from tests.support.gateway import CLIENT_KEY, RunningGateway, free_port
from tests.support.identity import admin_request, identity_config, seed_admins
from tollhouse.audit.signing import key_id
from tollhouse.cli.main import app

SESSION = "task-audit-admin"
PROMPT = "Summarise the quarterly report for the audit test"


def audited_config(upstream_url: str, tmp: Path, **audit: Any) -> tuple[dict[str, Any], int]:
    """Identity, the admin API on a free port and the audit trail, all in ``tmp/gw.db``."""
    port = free_port()
    config = identity_config(
        upstream_url,
        f"sqlite:///{tmp / 'gw.db'}",
        admin={"enabled": True, "port": port},
        audit={
            "enabled": True,
            "mode": "async",
            "flush_interval_s": 0.05,
            "content": {"mode": "full", "master_key": base64.b64encode(MASTER_KEY).decode()},
            "checkpoints": {"signing_key": SIGNING_KEY, "every": 5},
            **audit,
        },
    )
    return config, port


def eventually(check: Callable[[], Any], timeout_s: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while not (found := check()):
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)
    return found


def chat(port: int, session: str) -> int:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    body = json.dumps({"model": "gpt-test", "messages": [{"role": "user", "content": PROMPT}]})
    headers = {
        "authorization": f"Bearer {CLIENT_KEY}",
        "content-type": "application/json",
        "x-tollhouse-session": session,
    }
    conn.request("POST", "/v1/chat/completions", body=body, headers=headers)
    status = conn.getresponse().status
    conn.close()
    return status


@dataclass
class Audited:
    gw: RunningGateway
    port: int
    keys: dict[str, str]

    def get(self, path: str, role: str) -> tuple[int, Any]:
        status, _, data = admin_request(self.port, "GET", path, self.keys[role])
        return status, data

    def changes(self, action: str) -> list[dict[str, Any]]:
        status, found = self.get("/v1/audit/search?type=admin.change&limit=1000", "security-auditor")
        assert status == 200, found
        return [r for r in found["data"] if r["detail"]["action"] == action]


@pytest.fixture(scope="module")
def audited(fake_openai: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Audited]:
    tmp = Path(tmp_path_factory.mktemp("audit-admin"))
    config, port = audited_config(fake_openai.base_url, tmp)
    keys = asyncio.run(seed_admins(config["database"]["url"]))
    with RunningGateway(config) as gw:
        assert chat(gw.port, SESSION) == 200
        audited = Audited(gw, port, keys)
        # The writer commits in the background: wait until the call is on the record.
        eventually(
            lambda: audited.get(f"/v1/audit/search?session={SESSION}&type=llm.response", "admin")[1]["data"]
        )
        yield audited


def test_key_creation_is_a_chained_admin_change_without_its_secret(
    fake_openai: FakeOpenAI, tmp_path: Path
) -> None:
    config, port = audited_config(fake_openai.base_url, tmp_path)
    keys = asyncio.run(seed_admins(config["database"]["url"]))
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump(config))
    with RunningGateway(config):
        status, _, created = admin_request(
            port, "POST", "/v1/keys", keys["admin"], {"principal_id": "watcher", "name": "ci"}
        )
        assert status == 201, created
        secret = created["key"]

        def recorded() -> list[dict[str, Any]]:
            status, _, found = admin_request(
                port, "GET", "/v1/audit/search?type=admin.change&limit=1000", keys["security-auditor"]
            )
            assert status == 200, found
            return [r for r in found["data"] if r["detail"]["target_id"] == created["id"]]

        (change,) = eventually(recorded)
    assert change["principal"] == {"kind": "user", "id": "root-admin"} and change["surface"] == "admin"
    assert change["detail"]["action"] == "key.create" and change["detail"]["before"] is None
    assert change["detail"]["after"]["principal_id"] == "watcher"
    assert change["detail"]["after"]["display"].endswith(secret[-4:])
    with sqlite3.connect(tmp_path / "gw.db") as conn:
        bodies = [body for (body,) in conn.execute("SELECT body FROM audit_records")]
    assert bodies and not any(secret in body for body in bodies)
    verified = subprocess.run(
        [sys.executable, "-m", "tollhouse.cli.main", "audit", "verify", "-c", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("ok ") and "FAILED" not in verified.stdout


def test_verify_for_auditors_and_admins_only(audited: Audited) -> None:
    for role in ("security-auditor", "admin"):
        status, report = audited.get("/v1/audit/verify", role)
        assert status == 200 and report["ok"] is True and report["chains"], report
        # The signing key's public half checked the checkpoints (the only note: the chain is live).
        assert not any("public key" in note for note in report["notes"]), report["notes"]
    chain = report["chains"][0]["chain"]
    status, one = audited.get(f"/v1/audit/verify?chain={chain}&since=1h", "security-auditor")
    assert status == 200 and [c["chain"] for c in one["chains"]] == [chain]
    for role in ("viewer", "team-admin", ""):
        status, body = audited.get("/v1/audit/verify", role)
        assert status == 403 and "admin:audit:read" in body["error"]["message"]
    status, body = audited.get("/v1/audit/verify?since=yesterday-ish", "admin")
    assert status == 400 and body["error"]["message"].startswith("since:")


def test_search_filters(audited: Audited) -> None:
    status, found = audited.get(f"/v1/audit/search?session={SESSION}&type=llm.response", "security-auditor")
    assert status == 200
    (response,) = found["data"]
    assert response["status"] == 200 and response["route"] == "gpt-test" and "hash" in response
    assert PROMPT not in json.dumps(found)  # records reference content by digest only
    status, none = audited.get(f"/v1/audit/search?session={SESSION}&until=2000-01-01", "admin")
    assert status == 200 and none["data"] == []
    for bad in ("limit=0", "limit=abc", "status=42"):
        status, body = audited.get(f"/v1/audit/search?{bad}", "admin")
        assert status == 400, body


def test_session_timeline_reveals_content_only_when_asked_and_records_the_reveal(audited: Audited) -> None:
    status, hidden = audited.get(f"/v1/audit/sessions/{SESSION}", "security-auditor")
    assert status == 200 and hidden["calls"] == 1
    (call,) = hidden["roots"]
    assert call["route"] == "gpt-test" and call["content"]["request"] == "[not revealed]"
    assert PROMPT not in json.dumps(hidden)
    status, shown = audited.get(f"/v1/audit/sessions/{SESSION}?reveal_content=true", "security-auditor")
    assert status == 200 and PROMPT in shown["roots"][0]["content"]["request"]
    # The auditor's reveal (other tests reveal as the admin).
    (reveal,) = eventually(
        lambda: [c for c in audited.changes("audit.reveal") if c["principal"]["id"] == "auditor"]
    )
    assert reveal["detail"]["target_id"] == SESSION
    status, body = audited.get("/v1/audit/sessions/no-such-session", "admin")
    assert status == 404, body
    status, body = audited.get(f"/v1/audit/sessions/{SESSION}?reveal_content=true", "viewer")
    assert status == 403


def test_a_cedar_forbid_on_audit_content_wins_over_the_role(audited: Audited) -> None:
    forbid = 'forbid(principal == User::"auditor", action == Action::"admin:audit:content", resource);'
    status, _, body = admin_request(
        audited.port, "PUT", "/v1/policies/no-content-for-auditor", CLIENT_KEY, {"text": forbid}
    )
    assert status == 200, body
    try:
        path = f"/v1/audit/sessions/{SESSION}?reveal_content=true"
        status, refused = eventually(
            lambda: (r := audited.get(path, "security-auditor"))[0] == 403 and r, timeout_s=10
        )
        assert "no-content-for-auditor" in refused["error"]["message"]
        status, _ = audited.get(f"/v1/audit/sessions/{SESSION}", "security-auditor")
        assert status == 200  # reading the timeline is still allowed
        status, _ = audited.get(path, "admin")
        assert status == 200
    finally:
        admin_request(audited.port, "DELETE", "/v1/policies/no-content-for-auditor", CLIENT_KEY)
        # Leave the gateway as found: wait until the forbid is gone (a probe on no session is
        # authorised, then not found, and reveals nothing, so no reveal is recorded).
        probe = "/v1/audit/sessions/no-such-session?reveal_content=true"
        eventually(lambda: audited.get(probe, "security-auditor")[0] == 404, timeout_s=10)


def test_public_key_for_any_authenticated_caller(audited: Audited) -> None:
    for role in ("viewer", ""):
        status, published = audited.get("/v1/audit/public-key", role)
        assert status == 200
        assert published["algorithm"] == "Ed25519"
        assert [k["key_id"] for k in published["keys"]] == [key_id(signer().public_key)]
    status, _, _ = admin_request(audited.port, "GET", "/v1/audit/public-key", None)
    assert status == 401


def test_openapi_describes_the_audit_endpoints(audited: Audited) -> None:
    status, _, spec = admin_request(audited.port, "GET", "/openapi.json", None)
    assert status == 200
    search = spec["paths"]["/v1/audit/search"]["get"]
    assert search["x-tollhouse-action"] == "admin:audit:read"
    names = {p["name"] for p in search["parameters"]}
    assert {"principal", "agent", "session", "trace", "type", "verdict", "since", "until", "limit"} <= names
    session = spec["paths"]["/v1/audit/sessions/{session_id}"]["get"]
    assert {p["name"] for p in session["parameters"]} == {"session_id", "reveal_content"}
    assert spec["paths"]["/v1/audit/public-key"]["get"]["x-tollhouse-action"] is None


def test_without_audit_the_endpoints_say_so(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    db_url = f"sqlite:///{tmp_path / 'plain.db'}"
    keys = asyncio.run(seed_admins(db_url))
    port = free_port()
    with RunningGateway(identity_config(fake_openai.base_url, db_url, admin={"enabled": True, "port": port})):
        status, _, body = admin_request(port, "GET", "/v1/audit/verify", keys["security-auditor"])
    assert status == 404 and body["error"]["code"] == "audit_disabled"


def test_cli_changes_are_a_chain_of_their_own(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    config, _ = audited_config(fake_openai.base_url, tmp_path)
    asyncio.run(seed_admins(config["database"]["url"]))
    path = tmp_path / "gw.yaml"
    path.write_text(yaml.safe_dump(config))
    runner = CliRunner()
    created = runner.invoke(app, ["keys", "create", "--principal", "watcher", "--config", str(path)])
    assert created.exit_code == 0, created.output
    listed = runner.invoke(app, ["keys", "list", "--config", str(path)])
    assert listed.exit_code == 0, listed.output
    with sqlite3.connect(tmp_path / "gw.db") as conn:
        chains = conn.execute("SELECT count(*) FROM audit_chains").fetchone()[0]
        rows = [json.loads(body) for (body,) in conn.execute("SELECT body FROM audit_records ORDER BY seq")]
    assert chains == 1  # the read-only command wrote nothing
    assert [r["type"] for r in rows] == ["chain.start", "admin.change", "chain.close"]
    change = rows[1]
    assert change["principal"]["kind"] == "cli" and change["detail"]["action"] == "key.create"
    secret = next(line for line in created.output.splitlines() if line.startswith("th-"))
    assert all(secret not in json.dumps(r) for r in rows)
    verified = runner.invoke(app, ["audit", "verify", "--config", str(path)])
    assert verified.exit_code == 0, verified.output
