"""JWT verification against a local issuer: what is accepted, and why each forgery is refused."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from tests.fakes.oidc_issuer import AUDIENCE, FakeIssuer
from tollhouse.identity.config import ClaimMapping, JwtIssuerConfig
from tollhouse.identity.principal import Principal
from tollhouse.identity.tokens import TokenRejected, TokenVerifier


@pytest.fixture(scope="module")
def issuer() -> Iterator[FakeIssuer]:
    with FakeIssuer() as fake:
        yield fake


def _verifier(issuer: FakeIssuer, **changes: object) -> TokenVerifier:
    config = JwtIssuerConfig(
        issuer=issuer.issuer,
        audience=[AUDIENCE],
        leeway_s=5,
        org_id="acme",
        claims=ClaimMapping(team_map={"ml-engineers": "ml"}),
        **changes,  # type: ignore[arg-type]
    )
    return TokenVerifier([config], min_refetch_s=0)


@pytest.mark.parametrize("alg", ["RS256", "ES256"])
async def test_valid_tokens_map_to_a_user(issuer: FakeIssuer, alg: str) -> None:
    principal = await _verifier(issuer).verify(issuer.token(alg))
    assert principal == Principal(kind="user", id="alice", org_id="acme", team_id="ml", roles=("viewer",))


async def test_agent_claim_makes_an_agent_acting_for_the_subject(issuer: FakeIssuer) -> None:
    principal = await _verifier(issuer).verify(issuer.token(agent_id="planner", roles=["admin", "root"]))
    assert isinstance(principal, Principal)
    assert (principal.kind, principal.id, principal.on_behalf_of) == ("agent", "planner", "alice")
    assert principal.delegation_chain == ("user:alice", "agent:planner")
    assert principal.roles == ("admin",)  # unknown roles are dropped


@pytest.mark.parametrize(
    ("forge", "code"),
    [
        (lambda i: i.token(exp=int(time.time()) - 60), "token_expired"),
        (lambda i: i.token(nbf=int(time.time()) + 600), "token_not_yet_valid"),
        (lambda i: i.token(aud="someone-else"), "wrong_audience"),
        (lambda i: i.token(iss="https://evil.example"), "wrong_issuer"),
        (lambda i: i.token(exp=None), "missing_claim"),
        (lambda i: i.token(sub=None), "missing_claim"),
        (lambda i: i.token(sub="alice\x00"), "missing_claim"),  # the audit trail cannot store it
        (lambda i: i.token(sub="alice\ud800"), "missing_claim"),  # nor hash it
        (lambda i: i.token(sub="a" * 1025), "missing_claim"),
        (lambda i: i.token(agent_id="planner\n"), "missing_claim"),
        (lambda i: i.foreign_token(), "unknown_key"),
        (lambda i: i.token(kid="ec-1"), "algorithm_not_allowed"),  # RS256 naming the EC key
        (lambda i: i.foreign_token(kid="rsa-1"), "bad_signature"),  # a real kid, another key
        (lambda i: i.none_token(), "algorithm_not_allowed"),
        (lambda i: i.hs_confusion_token(), "algorithm_not_allowed"),
        (lambda i: i.token("RS256")[:-8] + "AAAAAAAA", "bad_signature"),
        (lambda i: "eyJhbGciOiJSUzI1NiJ9.not-base64!.x", "malformed_token"),
    ],
)
async def test_forgeries_are_rejected_with_a_reason(issuer: FakeIssuer, forge: object, code: str) -> None:
    result = await _verifier(issuer).verify(forge(issuer))  # type: ignore[operator]
    assert isinstance(result, TokenRejected)
    assert result.code == code and result.message


async def test_es256_only_issuer_refuses_rs256(issuer: FakeIssuer) -> None:
    result = await _verifier(issuer, algorithms=["ES256"]).verify(issuer.token("RS256"))
    assert isinstance(result, TokenRejected) and result.code == "algorithm_not_allowed"


async def test_clock_skew_within_leeway_is_accepted(issuer: FakeIssuer) -> None:
    token = issuer.token(exp=int(time.time()) - 2)  # expired 2 s ago, leeway 5 s
    assert isinstance(await _verifier(issuer).verify(token), Principal)


async def test_keys_are_cached_and_rotation_is_followed() -> None:
    with FakeIssuer() as issuer:  # its own: rotating the shared issuer would retire kids other tests name
        await _rotation_is_followed(issuer)


async def _rotation_is_followed(issuer: FakeIssuer) -> None:
    verifier = _verifier(issuer)
    fetches = issuer.jwks_fetches
    for _ in range(3):
        assert isinstance(await verifier.verify(issuer.token(sub=f"u{_}")), Principal)
    assert issuer.jwks_fetches == fetches + 1  # one fetch serves every token
    issuer.rotate()
    assert isinstance(await verifier.verify(issuer.token(sub="after-rotation")), Principal)
    assert issuer.jwks_fetches == fetches + 2  # the unknown kid triggered one refetch


async def test_unknown_kids_cannot_hammer_the_issuer(issuer: FakeIssuer) -> None:
    verifier = TokenVerifier([JwtIssuerConfig(issuer=issuer.issuer, audience=[AUDIENCE])], min_refetch_s=60)
    assert isinstance(await verifier.verify(issuer.token()), Principal)
    fetches = issuer.jwks_fetches
    for _ in range(5):
        result = await verifier.verify(issuer.foreign_token())
        assert isinstance(result, TokenRejected) and result.code == "unknown_key"
    assert issuer.jwks_fetches == fetches  # within min_refetch_s: no refetch at all
