"""A provider's API key from the credentials vault (``api_key: vault:NAME``): opened at start,
re-opened when the credential is rotated through the admin API, never shown."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, RunningGateway, free_port
from tests.support.identity import admin_request, call, identity_config
from tollhouse.admin.events import RecentEvents
from tollhouse.admin.services import AdminServices
from tollhouse.config.compile import compile_config
from tollhouse.config.load import ConfigError, parse_config
from tollhouse.identity.provider_keys import ProviderKeyMissing
from tollhouse.identity.refresh import IdentityRefresher
from tollhouse.identity.vault import Vault
from tollhouse.storage.engine import create_engine
from tollhouse.storage.migrate import upgrade

VAULT_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
FIRST = "sk-vault-held-upstream-key-first-1a2b"
SECOND = "sk-vault-held-upstream-key-second-3c4d"


async def _put(db_url: str, name: str, value: str) -> None:
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        await AdminServices(engine, RecentEvents(), vault=Vault({1: VAULT_KEY})).put_credential(
            "test", name, value
        )
    finally:
        await engine.dispose()


def _config(upstream_url: str, db_url: str, credential: str, **sections: object) -> dict[str, object]:
    config = identity_config(upstream_url, db_url, vault={"master_keys": {1: VAULT_KEY}}, **sections)
    config["providers"]["fake"]["api_key"] = f"vault:{credential}"  # type: ignore[index]
    return config


@dataclass
class Env:
    gw: RunningGateway
    upstream: FakeOpenAI
    admin_port: int


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    db_url = f"sqlite:///{Path(tmp_path_factory.mktemp('provider-vault')) / 'gw.db'}"
    asyncio.run(_put(db_url, "upstream-key", FIRST))
    port = free_port()
    with FakeOpenAI() as upstream:
        config = _config(upstream.base_url, db_url, "upstream-key", admin={"enabled": True, "port": port})
        with RunningGateway(config) as gw:
            yield Env(gw, upstream, port)


def _bearer_seen(upstream: FakeOpenAI) -> str:
    return upstream.requests[-1].headers["authorization"]


def test_the_upstream_gets_the_vault_key_and_a_rotation_reaches_it(env: Env) -> None:
    status, _, _ = call(env.gw.port, CLIENT_KEY)
    assert status == 200
    assert _bearer_seen(env.upstream) == f"Bearer {FIRST}"

    status, _, body = admin_request(
        env.admin_port, "PUT", "/v1/credentials/upstream-key", CLIENT_KEY, {"value": SECOND}
    )
    assert status == 200 and body["last4"] == SECOND[-4:]
    assert SECOND not in str(body) and FIRST not in str(body)

    deadline = time.monotonic() + 5
    while True:  # the change feed (polling here: no Redis) carries the new value
        assert call(env.gw.port, CLIENT_KEY)[0] == 200
        if _bearer_seen(env.upstream) == f"Bearer {SECOND}":
            break
        assert time.monotonic() < deadline, "the rotated credential did not reach the provider"
        time.sleep(0.05)
    # From then on every request carries the new key; the old one is gone.
    assert call(env.gw.port, CLIENT_KEY)[0] == 200
    assert _bearer_seen(env.upstream) == f"Bearer {SECOND}"

    status, _, listed = admin_request(env.admin_port, "GET", "/v1/credentials", CLIENT_KEY)
    assert status == 200 and SECOND not in str(listed) and FIRST not in str(listed)
    assert [c["last4"] for c in listed["data"] if c["name"] == "upstream-key"] == [SECOND[-4:]]


def test_the_vault_key_is_scrubbed_from_the_gateways_text(env: Env) -> None:
    scrubbed = env.gw.app.runtime.redactor.scrub(f"upstream said: bad key {SECOND}")
    assert SECOND not in scrubbed and "[REDACTED]" in scrubbed


def test_no_request_reads_the_database(env: Env) -> None:
    """The key lives in the provider's memory: a request opens nothing."""
    (refresher,) = [o for o in env.gw.app.runtime.observers if isinstance(o, IdentityRefresher)]
    from tests.support.identity import count_queries

    call(env.gw.port, CLIENT_KEY)  # settle any refresh in progress
    with count_queries(refresher.engine) as seen:
        started = time.monotonic()
        for _ in range(20):
            assert call(env.gw.port, CLIENT_KEY)[0] == 200
        elapsed = time.monotonic() - started
    # Polls of the version row may land in the window (every 0.2 s); nothing else may.
    polls = int(elapsed / 0.2) + 2
    assert len(seen) <= polls and all("identity_credentials" not in q for q in seen)


@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")
def test_a_missing_credential_stops_the_start_and_names_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    db_url = f"sqlite:///{tmp_path / 'gw.db'}"
    asyncio.run(_put(db_url, "something-else", FIRST))
    runtime = compile_config(parse_config(_yaml(_config("http://127.0.0.1:9/v1", db_url, "absent-key"))))
    (refresher,) = [o for o in runtime.observers if isinstance(o, IdentityRefresher)]

    async def start() -> None:
        try:
            await refresher.start()
        finally:
            await refresher.stop()

    with caplog.at_level(logging.ERROR, "tollhouse"), pytest.raises(ProviderKeyMissing) as caught:
        asyncio.run(start())
    assert "providers.fake.api_key: vault:absent-key" in str(caught.value)
    assert FIRST not in str(caught.value) and FIRST not in caplog.text
    # The real server refuses to start too.
    gateway = RunningGateway(_config("http://127.0.0.1:9/v1", db_url, "absent-key"))
    try:
        with pytest.raises(RuntimeError, match="did not start"):
            gateway.start()
    finally:
        gateway.stop()


def test_vault_keys_need_the_vault_and_the_identity_database(tmp_path: Path) -> None:
    config = _config("http://127.0.0.1:9/v1", f"sqlite:///{tmp_path / 'gw.db'}", "upstream-key")
    del config["vault"]
    with pytest.raises(ConfigError) as caught:
        compile_config(parse_config(_yaml(config)))
    assert "providers.fake.api_key" in str(caught.value) and "vault.master_keys" in str(caught.value)
    config = _config("http://127.0.0.1:9/v1", f"sqlite:///{tmp_path / 'gw.db'}", "upstream-key")
    config["identity"] = {"enabled": False}
    with pytest.raises(ConfigError) as caught:
        compile_config(parse_config(_yaml(config)))
    assert "identity.enabled" in str(caught.value)


def test_vault_references_are_for_provider_keys_only(tmp_path: Path) -> None:
    config = _config("http://127.0.0.1:9/v1", f"sqlite:///{tmp_path / 'gw.db'}", "upstream-key")
    config["auth"] = {"master_keys": ["vault:master"]}
    with pytest.raises(ConfigError) as caught:
        compile_config(parse_config(_yaml(config)))
    assert "auth.master_keys.0" in str(caught.value) and "only a provider's api_key" in str(caught.value)


def _yaml(config: dict[str, object]) -> str:
    import yaml

    return yaml.safe_dump(config)
