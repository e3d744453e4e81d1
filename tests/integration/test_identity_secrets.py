"""No key, token or provider credential appears in plaintext in logs, errors, admin responses
or the database: the test does everything a deployment does with secrets, then scans."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fakes.oidc_issuer import AUDIENCE, FakeIssuer
from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, RunningGateway, free_port
from tests.support.identity import admin_request, call, identity_config, seed_admins

VAULT_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
CREDENTIAL = "sk-provider-plaintext-credential-7788"


class _Everything(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
        if record.exc_info:
            self.lines.append(logging.Formatter().formatException(record.exc_info))


@pytest.fixture
def logs() -> Iterator[_Everything]:
    handler = _Everything()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


def test_secrets_never_leak(fake_openai: FakeOpenAI, tmp_path: Path, logs: _Everything) -> None:
    db = tmp_path / "secrets.db"
    role_keys = asyncio.run(seed_admins(f"sqlite:///{db}"))
    port = free_port()
    seen: list[str] = []  # every response body the gateway and the admin API returned
    with FakeIssuer() as issuer:
        config = identity_config(
            fake_openai.base_url,
            f"sqlite:///{db}",
            admin={"enabled": True, "port": port},
            vault={"master_keys": {1: VAULT_KEY}},
            jwt={"issuers": [{"issuer": issuer.issuer, "audience": [AUDIENCE]}]},
            logging={"level": "debug"},
        )
        tokens = [issuer.token(), issuer.token(exp=1), issuer.hs_confusion_token(), issuer.none_token()]
        with RunningGateway(config) as gw:

            def admin(method: str, path: str, body: object = None) -> dict[str, object]:
                status, _, data = admin_request(port, method, path, CLIENT_KEY, body)
                assert status < 500, data
                return data or {}

            created = admin(
                "POST", "/v1/keys", {"principal_id": "watcher", "scopes": {"models": ["gpt-test"]}}
            )
            new_key = str(created.pop("key"))
            rotated = admin("POST", f"/v1/keys/{created['id']}/rotate", {"grace_s": 0})
            rotated_key = str(rotated.pop("key"))
            seen += [str(created), str(rotated)]
            seen.append(str(admin("PUT", "/v1/credentials/openai", {"value": CREDENTIAL})))
            for path in (
                "/v1/keys?include_revoked=true",
                "/v1/credentials",
                "/v1/events?limit=1000",
                "/v1/principals",
            ):
                seen.append(str(admin("GET", path)))
            for key in [new_key, rotated_key, *role_keys.values(), *tokens, "th-guessed-key-000000000000000"]:
                for model in ("gpt-test", "embed-test", "error-401"):
                    seen.append(str(call(gw.port, key, model)))
                seen.append(str(admin_request(port, "GET", "/v1/keys", key)))

    secrets = [new_key, rotated_key, *role_keys.values(), *tokens, CREDENTIAL, CLIENT_KEY, VAULT_KEY]
    stored = b"".join(p.read_bytes() for p in tmp_path.glob("secrets.db*"))  # the file and its WAL
    text = "\n".join(logs.lines)
    assert "admin.change" in text  # the scan did see the admin events' log lines
    for secret in secrets:
        assert secret not in text, "a secret reached the logs"
        assert all(secret not in body for body in seen), "a secret reached a response"
        assert secret.encode() not in stored, "a secret is stored in plaintext"
        if secret.startswith("th-"):
            assert secret[3:-4].encode() not in stored  # not even its middle
