"""Conditional routing: teams, organisations, tags, principal kinds, headers, body metadata."""

from __future__ import annotations

from typing import Any

from tests.unit.support import make_ctx
from tollhouse.identity.principal import Principal
from tollhouse.routing.conditions import Condition
from tollhouse.routing.config import TargetCondition


def matches(principal: Principal | None = None, headers: dict[str, str] | None = None, **when: Any) -> bool:
    ctx = make_ctx(payload={"model": "m", "metadata": {"env": "prod"}}, headers=headers)
    ctx.principal = principal
    return Condition(TargetCondition(**when)).matches(ctx)


ALICE = Principal("user", "alice", org_id="acme", team_id="research", tags=("beta", "eu"))


def test_principal_attributes() -> None:
    assert matches(ALICE, teams=["research", "ops"])
    assert not matches(ALICE, teams=["ops"])
    assert matches(ALICE, orgs=["acme"]) and not matches(ALICE, orgs=["other"])
    assert matches(ALICE, tags=["eu", "us"]) and not matches(ALICE, tags=["us"])
    assert matches(ALICE, principal_kinds=["user"]) and not matches(ALICE, principal_kinds=["agent"])
    assert not matches(None, teams=["research"])


def test_headers_and_metadata() -> None:
    assert Condition(TargetCondition(headers={"X-Tier": "premium"})).matches(
        make_ctx(payload={"model": "m"}, headers={"x-tier": "premium"})
    )
    assert not Condition(TargetCondition(headers={"x-tier": "premium"})).matches(
        make_ctx(payload={"model": "m"})
    )
    assert matches(metadata={"env": "prod"}) and not matches(metadata={"env": "dev"})
    assert not Condition(TargetCondition(metadata={"env": "prod"})).matches(make_ctx(payload={"model": "m"}))


def test_every_given_field_must_match() -> None:
    assert matches(ALICE, teams=["research"], tags=["beta"], metadata={"env": "prod"})
    assert not matches(ALICE, teams=["research"], tags=["beta"], metadata={"env": "dev"})
    assert matches()  # an empty condition matches everything
