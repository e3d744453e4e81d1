"""Virtual keys on the data plane: scopes, Cedar, delegation, revocation, and no queries per request."""

from __future__ import annotations

import asyncio
import dataclasses
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, RunningGateway
from tests.support.identity import Recorder, Seeded, call, count_queries, identity_config, seed
from tollhouse.admin.events import RecentEvents
from tollhouse.admin.services import AdminServices
from tollhouse.identity.refresh import IdentityRefresher
from tollhouse.identity.store.tables import keys
from tollhouse.storage.engine import create_engine

PERMIT_PLANNER = (
    'permit(principal == Agent::"planner", action == Action::"invoke_model", resource == Model::"gpt-test");'
)


@dataclasses.dataclass
class Setup:
    gw: RunningGateway
    seeded: Seeded
    db_url: str
    recorder: Recorder

    @property
    def refresher(self) -> IdentityRefresher:
        found = next(o for o in self.gw.app.runtime.observers if isinstance(o, IdentityRefresher))
        return found


def _start(upstream: FakeOpenAI, tmp_path: Path, refresh_interval_s: float) -> Iterator[Setup]:
    db_url = f"sqlite:///{tmp_path / 'gw.db'}"
    seeded = asyncio.run(seed(db_url))
    config = identity_config(
        upstream.base_url,
        db_url,
        authorization={"policies": [{"id": "planner-gpt-test", "text": PERMIT_PLANNER}]},
        identity={"enabled": True, "refresh_interval_s": refresh_interval_s, "last_used_flush_s": 3600},
    )
    gw = RunningGateway(config)
    recorder = Recorder()
    runtime = gw.app.runtime
    gw.app.runtime = dataclasses.replace(runtime, observers=(*runtime.observers, recorder))
    with gw:
        yield Setup(gw, seeded, db_url, recorder)


@pytest.fixture
def setup(fake_openai: FakeOpenAI, tmp_path: Path) -> Iterator[Setup]:
    yield from _start(fake_openai, tmp_path, refresh_interval_s=0.2)


@pytest.fixture
def quiet(fake_openai: FakeOpenAI, tmp_path: Path) -> Iterator[Setup]:
    """A gateway whose refresher polls once an hour: steady state for the whole test."""
    yield from _start(fake_openai, tmp_path, refresh_interval_s=3600)


def test_master_key_still_works(setup: Setup) -> None:
    assert call(setup.gw.port, CLIENT_KEY)[0] == 200


def test_key_scoped_to_one_model_cannot_call_another(setup: Setup) -> None:
    key = setup.seeded.keys["scoped"]
    assert call(setup.gw.port, key, "gpt-test")[0] == 200
    status, _, body = call(setup.gw.port, key, "embed-test")
    assert status == 403
    assert body["error"]["type"] == "permission_error"
    assert "key-scope" in body["error"]["message"] and "embed-test" in body["error"]["message"]
    denial = setup.recorder.seen[-1].decisions[-1]
    assert (denial.policy, denial.outcome, denial.reason) == ("authorize", "deny", "scope:key-scope")


def test_agent_needs_a_permitting_policy(setup: Setup) -> None:
    key = setup.seeded.keys["agent"]
    assert call(setup.gw.port, key, "gpt-test")[0] == 200  # permitted by planner-gpt-test
    allowed = setup.recorder.seen[-1].decisions[-1]
    assert (allowed.outcome, allowed.reason) == ("allow", "permit:planner-gpt-test")
    status, _, body = call(setup.gw.port, key, "embed-test")
    assert status == 403
    assert "no policy permits agent `planner`" in body["error"]["message"]
    assert setup.recorder.seen[-1].decisions[-1].reason == "no_permit"


def test_users_are_allowed_by_default(setup: Setup) -> None:
    assert call(setup.gw.port, setup.seeded.keys["alice"], "embed-test")[0] != 403


def test_delegation_chain_reaches_the_request_context(setup: Setup) -> None:
    key = setup.seeded.keys["agent"]
    status, _, _ = call(setup.gw.port, key, headers={"x-tollhouse-on-behalf-of": "alice"})
    assert status == 200
    principal = setup.recorder.seen[-1].principal
    assert principal is not None
    assert principal.delegation_chain == ("user:alice", "agent:planner")
    assert (principal.key_id, principal.team_id, principal.org_id) == (
        setup.seeded.key_ids["agent"],
        "ml",
        "acme",
    )
    # A user key cannot delegate; an agent cannot name a user who does not exist.
    assert (
        call(setup.gw.port, setup.seeded.keys["alice"], headers={"x-tollhouse-on-behalf-of": "bob"})[0] == 403
    )
    assert call(setup.gw.port, key, headers={"x-tollhouse-on-behalf-of": "nobody"})[0] == 403


def test_unknown_key_is_401(setup: Setup) -> None:
    status, _, body = call(setup.gw.port, "th-" + "x" * 43)
    assert status == 401 and body["error"]["message"] == "invalid API key"


def test_steady_state_runs_no_queries(quiet: Setup) -> None:
    engine = quiet.refresher.engine
    with count_queries(engine) as queries:
        for _ in range(50):
            assert call(quiet.gw.port, quiet.seeded.keys["scoped"])[0] == 200
            assert call(quiet.gw.port, quiet.seeded.keys["agent"])[0] == 200
            assert call(quiet.gw.port, quiet.seeded.keys["scoped"], "embed-test")[0] == 403
    assert queries == []
    # The counter does see this engine's statements: stopping writes the batched last use.
    with count_queries(engine) as queries:
        quiet.gw.stop()
    assert any(q.lstrip().upper().startswith("UPDATE IDENTITY_KEYS") for q in queries)


def test_revocation_reaches_the_gateway_by_polling(setup: Setup) -> None:
    key = setup.seeded.keys["alice"]
    assert call(setup.gw.port, key)[0] == 200

    async def revoke() -> None:
        engine = create_engine(setup.db_url)
        try:
            await AdminServices(engine, RecentEvents()).revoke_key("test", setup.seeded.key_ids["alice"])
        finally:
            await engine.dispose()

    asyncio.run(revoke())
    deadline = time.monotonic() + 5
    while call(setup.gw.port, key)[0] == 200:
        assert time.monotonic() < deadline, "revocation did not reach the gateway"
        time.sleep(0.05)
    assert call(setup.gw.port, key)[0] == 401


def test_last_use_is_written_in_a_batch_at_shutdown(setup: Setup) -> None:
    assert call(setup.gw.port, setup.seeded.keys["scoped"])[0] == 200
    before = time.time()
    setup.gw.stop()  # stopping flushes what is pending (the fixture's second stop is a no-op)

    async def read() -> dict[str, float | None]:
        engine = create_engine(setup.db_url)
        try:
            async with engine.connect() as conn:
                rows = (await conn.execute(select(keys.c.id, keys.c.last_used_at))).all()
            return {r[0]: r[1] for r in rows}
        finally:
            await engine.dispose()

    used = asyncio.run(read())
    assert used[setup.seeded.key_ids["scoped"]] is not None
    assert used[setup.seeded.key_ids["scoped"]] <= before + 1
    assert used[setup.seeded.key_ids["alice"]] is None
