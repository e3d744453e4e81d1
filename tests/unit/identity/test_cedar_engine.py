"""Cedar decisions: ids that decided, agents' default deny, teams as parents, the cache."""

from __future__ import annotations

import time

import pytest

from tollhouse.identity.cedar_engine import PolicyEngine, parse_entity, parse_policies
from tollhouse.identity.errors import InvalidInput
from tollhouse.identity.principal import Principal
from tollhouse.identity.records import PrincipalRecord, Team

TEAM = Team("ml", "acme", "ML", 0.0)
PLANNER = PrincipalRecord("planner", "agent", "acme", "ml", "Planner", 0.0, owner_id="alice", tags=("prod",))
AGENT = Principal(kind="agent", id="planner", org_id="acme", team_id="ml")
USER = Principal(kind="user", id="alice", org_id="acme", team_id="ml")

POLICIES = [
    (
        "team-chat",
        'permit(principal in Team::"ml", action == Action::"invoke_model", resource == Model::"chat");',
    ),
    (
        "no-prod-embed",
        'forbid(principal, action, resource == Model::"embed") when { principal.tags.contains("prod") };',
    ),
    (
        "pair",
        'permit(principal, action == Action::"call_tool", resource == Tool::"github/read");\n'
        'forbid(principal, action == Action::"call_tool", resource == Tool::"github/delete");',
    ),
]


@pytest.fixture
def engine() -> PolicyEngine:
    return PolicyEngine(POLICIES, [PLANNER], [TEAM], cache_ttl_s=5)


def test_permit_through_team_membership(engine: PolicyEngine) -> None:
    verdict = engine.decide(AGENT, "invoke_model", "Model", "chat")
    assert (verdict.allowed, verdict.reason, verdict.policies) == (True, "permit", ("team-chat",))


def test_forbid_names_the_policy_by_attribute(engine: PolicyEngine) -> None:
    verdict = engine.decide(AGENT, "invoke_model", "Model", "embed")
    assert (verdict.allowed, verdict.reason, verdict.policies) == (False, "forbid", ("no-prod-embed",))


def test_agents_default_deny_users_default_allow(engine: PolicyEngine) -> None:
    assert engine.decide(AGENT, "invoke_model", "Model", "other").reason == "no_permit"
    assert engine.decide(USER, "invoke_model", "Model", "other").reason == "default_allow"
    strict = PolicyEngine(POLICIES, [PLANNER], [TEAM], users_default="deny")
    assert strict.decide(USER, "invoke_model", "Model", "other").reason == "default_deny"


def test_a_text_with_several_policies_numbers_them(engine: PolicyEngine) -> None:
    assert engine.policy_ids == ("team-chat", "no-prod-embed", "pair", "pair#2")
    assert engine.decide(AGENT, "call_tool", "Tool", "github/delete").policies == ("pair#2",)
    assert engine.decide(AGENT, "call_tool", "Tool", "github/read").allowed


def test_unknown_principal_gets_its_team_from_the_principal(engine: PolicyEngine) -> None:
    stranger = Principal(kind="agent", id="from-token", team_id="ml")
    assert engine.decide(stranger, "invoke_model", "Model", "chat").allowed
    assert not engine.decide(Principal(kind="agent", id="x"), "invoke_model", "Model", "chat").allowed


def test_admin_actions_group_under_admin_star() -> None:
    engine = PolicyEngine(
        [
            (
                "ro",
                'forbid(principal, action in Action::"admin:*", resource) when { principal.kind == "agent" };',
            )
        ],
        [PLANNER],
        [TEAM],
    )
    assert engine.decide(AGENT, "admin:keys:write", "Admin", "api").reason == "forbid"


def test_decisions_are_cached_briefly(engine: PolicyEngine) -> None:
    first = engine.decide(AGENT, "invoke_model", "Model", "chat")
    assert engine.decide(AGENT, "invoke_model", "Model", "chat") is first
    uncached = PolicyEngine(POLICIES, [PLANNER], [TEAM], cache_ttl_s=0)
    assert uncached.decide(AGENT, "invoke_model", "Model", "chat") is not uncached.decide(
        AGENT, "invoke_model", "Model", "chat"
    )


def test_cached_decision_is_fast(engine: PolicyEngine) -> None:
    engine.decide(AGENT, "invoke_model", "Model", "chat")
    started = time.perf_counter()
    for _ in range(10_000):
        engine.decide(AGENT, "invoke_model", "Model", "chat")
    assert (time.perf_counter() - started) / 10_000 < 20e-6  # a dict lookup, not an evaluation


@pytest.mark.parametrize(
    "text", ["permit(principal, action", "", "permit(principal == ?principal, action, resource);"]
)
def test_bad_policy_text_is_invalid_input(text: str) -> None:
    with pytest.raises(InvalidInput):
        parse_policies("p", text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('Model::"gpt-4o"', ("Model", "gpt-4o")),
        ("model:gpt-4o", ("Model", "gpt-4o")),
        ("tool:github/read", ("Tool", "github/read")),
        ('Agent::"planner"', ("Agent", "planner")),
    ],
)
def test_parse_entity(text: str, expected: tuple[str, str]) -> None:
    assert parse_entity(text) == expected


def test_parse_entity_rejects_nonsense() -> None:
    with pytest.raises(InvalidInput):
        parse_entity("gpt-4o")
