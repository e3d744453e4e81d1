"""VirtualKeyAuth over a snapshot: master first, then keys by digest, expiry, delegation."""

from __future__ import annotations

import asyncio
import time

import pytest

from tests.unit.support import make_ctx
from tollhouse.config.secrets import Secret
from tollhouse.errors import Forbidden, Unauthenticated
from tollhouse.identity.keys import KeyRequest, issue_key
from tollhouse.identity.records import PrincipalRecord
from tollhouse.identity.snapshot import IdentityState, build_snapshot
from tollhouse.identity.store.loader import Loaded
from tollhouse.pipeline.outcome import Deny
from tollhouse.policies.virtual_key import VirtualKeyAuth

ALICE = PrincipalRecord("alice", "user", "acme", "ml", "Alice", 0.0, roles=("viewer",))
BOT = PrincipalRecord("bot", "agent", "acme", "ml", "Bot", 0.0, owner_id="alice", can_delegate=True)
GONE = PrincipalRecord("gone", "user", "acme", "ml", "Gone", 0.0, disabled=True)


@pytest.fixture
def keys() -> dict[str, str]:
    return {}


@pytest.fixture
def auth(keys: dict[str, str]) -> tuple[VirtualKeyAuth, IdentityState]:
    records = []
    for name, request in (
        ("alice", KeyRequest("alice")),
        ("bot", KeyRequest("bot")),
        ("expired", KeyRequest("alice", expires_at=time.time() + 0.01)),
        ("gone", KeyRequest("gone")),
    ):
        issued = issue_key(request)
        keys[name] = issued.secret
        records.append(issued.record)
    loaded = Loaded(7, [], [ALICE, BOT, GONE], records, [])
    state = IdentityState(build_snapshot(loaded))
    return VirtualKeyAuth([Secret("sk-master-key-0001")], state), state


def _ctx(key: str, **headers: str):  # type: ignore[no-untyped-def]
    return make_ctx(headers={"authorization": f"Bearer {key}", **headers})


async def test_master_then_virtual_key(
    auth: tuple[VirtualKeyAuth, IdentityState], keys: dict[str, str]
) -> None:
    policy, state = auth
    ctx = _ctx("sk-master-key-0001")
    assert await policy.enter(ctx) is None and ctx.principal is not None and ctx.principal.kind == "master"
    ctx = _ctx(keys["alice"])
    assert await policy.enter(ctx) is None
    assert ctx.principal is not None
    assert (ctx.principal.kind, ctx.principal.id, ctx.principal.team_id, ctx.principal.roles) == (
        "user", "alice", "ml", ("viewer",),
    )  # fmt: skip
    assert set(state.take_used()) == {ctx.principal.key_id}  # last use recorded in memory


async def test_rejections(auth: tuple[VirtualKeyAuth, IdentityState], keys: dict[str, str]) -> None:
    policy, _ = auth
    await asyncio.sleep(0.02)
    for key, reason in (
        (keys["expired"], "key_expired"),
        (keys["gone"], "bad_key"),  # a disabled principal's keys are not in the snapshot
        (keys["alice"][:-1] + "x", "bad_key"),
        ("something-else", "bad_key"),
    ):
        outcome = await policy.enter(_ctx(key))
        assert isinstance(outcome, Deny) and isinstance(outcome.error, Unauthenticated)
        assert outcome.reason == reason
    missing = await policy.enter(make_ctx())
    assert isinstance(missing, Deny) and missing.reason == "no_key"


async def test_delegation(auth: tuple[VirtualKeyAuth, IdentityState], keys: dict[str, str]) -> None:
    policy, _ = auth
    header = "x-tollhouse-on-behalf-of"
    ctx = _ctx(keys["bot"], **{header: "alice"})
    assert await policy.enter(ctx) is None
    assert ctx.principal is not None and ctx.principal.delegation_chain == ("user:alice", "agent:bot")
    for key, user, reason in (
        (keys["alice"], "bot", "delegation_not_allowed"),
        (keys["bot"], "nobody", "delegation_unknown_user"),
        (keys["bot"], "bot", "delegation_unknown_user"),  # an agent is not a user
        (keys["bot"], "gone", "delegation_unknown_user"),
    ):
        outcome = await policy.enter(_ctx(key, **{header: user}))
        assert isinstance(outcome, Deny) and isinstance(outcome.error, Forbidden) and outcome.reason == reason


async def test_master_principals_match_master_key_auth() -> None:
    from tollhouse.policies.master_key import MasterKeyAuth

    keys = [Secret("sk-master-key-0001"), Secret("sk-master-key-0002")]
    for key in keys:
        ours, theirs = _ctx(key.reveal()), _ctx(key.reveal())
        assert await VirtualKeyAuth(keys, None).enter(ours) is None
        assert await MasterKeyAuth(keys).enter(theirs) is None
        assert ours.principal == theirs.principal


async def test_open_mode_without_a_key_is_anonymous() -> None:
    ctx = make_ctx()
    assert await VirtualKeyAuth([], None, allow_unauthenticated=True).enter(ctx) is None
    assert ctx.principal is not None and ctx.principal.kind == "anonymous"
