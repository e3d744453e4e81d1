"""JWT bearer tokens through the gateway: accepted tokens map to principals Cedar can judge;
every forged or stale token is a 401 that says why."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.fakes.oidc_issuer import AUDIENCE, FakeIssuer
from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import RunningGateway, upstream_config
from tests.support.identity import call

POLICIES = [
    {
        "id": "ml-no-embeddings",
        "text": 'forbid(principal in Team::"ml", action == Action::"invoke_model", resource == Model::"embed-test");',
    },
    {
        "id": "planner-chat",
        "text": 'permit(principal == Agent::"planner", action, resource == Model::"gpt-test");',
    },
]


@pytest.fixture(scope="module")
def issuer() -> Iterator[FakeIssuer]:
    with FakeIssuer() as fake:
        yield fake


@pytest.fixture(scope="module")
def gw(issuer: FakeIssuer, fake_openai: FakeOpenAI) -> Iterator[RunningGateway]:
    config = upstream_config(fake_openai.base_url)
    config["jwt"] = {
        "issuers": [
            {
                "issuer": issuer.issuer,
                "audience": [AUDIENCE],
                "org_id": "acme",
                "claims": {"team_map": {"ml-engineers": "ml"}},
            }
        ]
    }
    config["authorization"] = {"policies": POLICIES}
    with RunningGateway(config) as running:
        yield running


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
def test_valid_token_is_accepted(gw: RunningGateway, issuer: FakeIssuer, alg: str) -> None:
    assert call(gw.port, issuer.token(alg))[0] == 200


@pytest.mark.parametrize(
    ("forge", "reason"),
    [
        (lambda i: i.token(exp=int(time.time()) - 120), "token expired"),
        (lambda i: i.token(aud="another-app"), "token audience is not accepted"),
        (lambda i: i.token(iss="https://evil.example"), "token issuer is not trusted"),
        (lambda i: i.foreign_token(), "token is signed with an unknown key"),
        (lambda i: i.none_token(), "token algorithm is not allowed"),
        (lambda i: i.hs_confusion_token(), "token algorithm is not allowed"),
    ],
)
def test_bad_tokens_are_401_with_a_reason(
    gw: RunningGateway, issuer: FakeIssuer, forge: object, reason: str
) -> None:
    token = forge(issuer)  # type: ignore[operator]
    status, _, body = call(gw.port, token)
    assert status == 401
    assert body["error"] == {
        "message": f"invalid token: {reason}",
        "type": "authentication_error",
        "code": "invalid_api_key",
        "param": None,
    }
    assert token not in str(body)


def test_team_from_groups_meets_a_forbid_policy(gw: RunningGateway, issuer: FakeIssuer) -> None:
    status, _, body = call(gw.port, issuer.token(), "embed-test")
    assert status == 403
    assert body["error"]["message"] == "denied by policy ml-no-embeddings"
    assert call(gw.port, issuer.token(groups=["other"]), "embed-test")[0] != 403


def test_agent_token_is_default_deny(gw: RunningGateway, issuer: FakeIssuer) -> None:
    assert call(gw.port, issuer.token(agent_id="planner", groups=[]), "gpt-test")[0] == 200
    status, _, body = call(gw.port, issuer.token(agent_id="stranger", groups=[]), "gpt-test")
    assert status == 403 and "no policy permits agent `stranger`" in body["error"]["message"]


def test_a_header_cannot_change_a_tokens_delegation(gw: RunningGateway, issuer: FakeIssuer) -> None:
    token = issuer.token(agent_id="planner", groups=[])
    status, _, _ = call(gw.port, token, "gpt-test", headers={"x-tollhouse-on-behalf-of": "mallory"})
    assert status == 403
