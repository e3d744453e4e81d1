"""MasterKeyAuth: which presented keys are accepted, and what a denial says."""

from __future__ import annotations

import pytest

from tests.unit.support import make_ctx
from tollhouse.config.secrets import Secret
from tollhouse.errors import Unauthenticated
from tollhouse.pipeline.outcome import Deny
from tollhouse.pipeline.phases import Phase
from tollhouse.policies.master_key import MasterKeyAuth, presented_key

KEY_A = "th-master-key-aaaa"
KEY_B = "th-master-key-bbbb"


@pytest.fixture
def auth() -> MasterKeyAuth:
    return MasterKeyAuth([Secret(KEY_A), Secret(KEY_B)])


def test_runs_in_the_authenticate_phase() -> None:
    assert MasterKeyAuth.phase is Phase.AUTHENTICATE


@pytest.mark.parametrize(
    ("headers", "principal"),
    [
        ({"authorization": f"Bearer {KEY_A}"}, "master-0"),
        ({"authorization": f"bearer {KEY_A}"}, "master-0"),
        ({"authorization": f"BEARER   {KEY_A}  "}, "master-0"),
        ({"authorization": f"Bearer {KEY_B}"}, "master-1"),
        ({"x-api-key": KEY_A}, "master-0"),
        ({"x-api-key": KEY_B}, "master-1"),
    ],
)
async def test_accepts_a_configured_key(auth: MasterKeyAuth, headers: dict[str, str], principal: str) -> None:
    ctx = make_ctx(headers=headers)
    assert await auth.enter(ctx) is None
    assert ctx.principal is not None
    assert ctx.principal.kind == "master"
    assert ctx.principal.id == principal  # which configured key matched
    assert "admin" in ctx.principal.roles


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"authorization": f"Basic {KEY_A}"},  # wrong scheme is no key at all
        {"authorization": f"Token {KEY_A}"},
        {"authorization": KEY_A},  # no scheme
        {"authorization": "Bearer "},
        {"authorization": "Bearer"},
        {"x-api-key": ""},
    ],
)
async def test_missing_key_is_denied(auth: MasterKeyAuth, headers: dict[str, str]) -> None:
    ctx = make_ctx(headers=headers)
    outcome = await auth.enter(ctx)
    assert isinstance(outcome, Deny)
    assert outcome.reason == "no_key"
    assert outcome.policy == "master_key"
    assert isinstance(outcome.error, Unauthenticated)
    assert outcome.error.status == 401
    assert "Bearer" in outcome.error.message
    assert ctx.principal is None


@pytest.mark.parametrize(
    "headers",
    [
        {"authorization": "Bearer th-master-key-cccc"},
        {"authorization": f"Bearer {KEY_A}x"},
        {"authorization": f"Bearer {KEY_A[:-1]}"},
        {"x-api-key": "wrong"},
        {"authorization": "Bearer clé-été"},  # non-ASCII must be refused, not crash
    ],
)
async def test_wrong_key_is_denied_without_echoing_it(auth: MasterKeyAuth, headers: dict[str, str]) -> None:
    ctx = make_ctx(headers=headers)
    outcome = await auth.enter(ctx)
    assert isinstance(outcome, Deny)
    assert outcome.reason == "bad_key"
    assert isinstance(outcome.error, Unauthenticated)
    presented = next(iter(headers.values())).removeprefix("Bearer ")
    assert presented not in outcome.error.message
    assert ctx.principal is None


async def test_authorization_header_wins_over_x_api_key(auth: MasterKeyAuth) -> None:
    ctx = make_ctx(headers={"authorization": "Bearer nope-nope-nope", "x-api-key": KEY_A})
    outcome = await auth.enter(ctx)
    assert isinstance(outcome, Deny)
    assert outcome.reason == "bad_key"


async def test_no_configured_keys_refuses_everything() -> None:
    auth = MasterKeyAuth([])
    for headers in ({}, {"authorization": "Bearer anything-at-all"}):
        outcome = await auth.enter(make_ctx(headers=headers))
        assert isinstance(outcome, Deny)


async def test_allow_unauthenticated_admits_a_caller_without_key() -> None:
    auth = MasterKeyAuth([Secret(KEY_A)], allow_unauthenticated=True)
    ctx = make_ctx()
    assert await auth.enter(ctx) is None
    assert ctx.principal is not None
    assert ctx.principal.kind == "anonymous"
    assert ctx.principal.roles == ()


async def test_allow_unauthenticated_still_checks_a_presented_key() -> None:
    auth = MasterKeyAuth([Secret(KEY_A)], allow_unauthenticated=True)
    good = make_ctx(headers={"x-api-key": KEY_A})
    bad = make_ctx(headers={"x-api-key": "not-the-key"})

    assert await auth.enter(good) is None
    assert good.principal is not None
    assert good.principal.id == "master-0"
    outcome = await auth.enter(bad)
    assert isinstance(outcome, Deny)
    assert outcome.reason == "bad_key"


def test_presented_key_parsing() -> None:
    assert presented_key({"authorization": "Bearer k1"}) == "k1"
    assert presented_key({"x-api-key": "k2"}) == "k2"
    assert presented_key({"authorization": "Basic k1", "x-api-key": "k2"}) is None
    assert presented_key({}) is None


async def test_principal_never_carries_the_key() -> None:
    auth = MasterKeyAuth([Secret(KEY_A)])
    ctx = make_ctx(headers={"authorization": f"Bearer {KEY_A}"})
    assert await auth.enter(ctx) is None
    assert KEY_A not in repr(ctx.principal)
    assert KEY_A not in repr(vars(auth))
