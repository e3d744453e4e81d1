"""JWT / OIDC bearer tokens: verify against a trusted issuer, then map claims to a principal.

Every rejection carries a short, fixed reason ("token expired", "wrong audience", …) that
is safe to show the caller; the token itself is never logged or echoed.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import jwt
from jwt import exceptions as jwt_errors

from tollhouse.identity.config import ROLES, JwtIssuerConfig
from tollhouse.identity.jwks import JwksCache
from tollhouse.identity.principal import Principal

_CACHE_LIMIT = 10_000
_REASONS: tuple[tuple[type[Exception], str, str], ...] = (
    (jwt_errors.ExpiredSignatureError, "token_expired", "token expired"),
    (jwt_errors.ImmatureSignatureError, "token_not_yet_valid", "token not yet valid"),
    (jwt_errors.InvalidAudienceError, "wrong_audience", "token audience is not accepted"),
    (jwt_errors.InvalidIssuerError, "wrong_issuer", "token issuer is not trusted"),
    (jwt_errors.MissingRequiredClaimError, "missing_claim", "token lacks a required claim"),
    (jwt_errors.InvalidSignatureError, "bad_signature", "token signature is invalid"),
    (jwt_errors.InvalidAlgorithmError, "algorithm_not_allowed", "token algorithm is not allowed"),
)


@dataclass(frozen=True, slots=True)
class TokenRejected:
    """Why a token was refused: ``code`` for logs and audit, ``message`` for the caller."""

    code: str
    message: str


def looks_like_jwt(value: str) -> bool:
    return value.count(".") == 2 and value.startswith("ey")


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return value.replace(",", " ").split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


class TokenVerifier:
    """Verifies tokens from the configured issuers and caches good ones until they expire."""

    def __init__(self, issuers: Sequence[JwtIssuerConfig], min_refetch_s: float = 30.0) -> None:
        self._issuers = {i.issuer: i for i in issuers}
        self._jwks = {i.issuer: JwksCache(i.issuer, i.jwks_url, i.jwks_ttl_s, min_refetch_s) for i in issuers}
        self._verified: dict[bytes, tuple[float, Principal]] = {}

    async def verify(self, token: str) -> Principal | TokenRejected:
        digest = hashlib.sha256(token.encode("utf-8", "surrogateescape")).digest()
        now = time.time()
        hit = self._verified.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        try:
            header = jwt.get_unverified_header(token)
            unverified = jwt.decode(token, options={"verify_signature": False})
        except jwt_errors.PyJWTError:
            return TokenRejected("malformed_token", "token is malformed")
        alg = header.get("alg")
        issuer = self._issuers.get(str(unverified.get("iss", "")).rstrip("/"))
        if issuer is None:
            return TokenRejected("wrong_issuer", "token issuer is not trusted")
        if not isinstance(alg, str) or alg not in issuer.algorithms:
            # Covers `alg: none` and HS256 (HMAC keyed with a public key): never allowed.
            return TokenRejected("algorithm_not_allowed", "token algorithm is not allowed")
        kid = header.get("kid")
        key = await self._jwks[issuer.issuer].key(kid if isinstance(kid, str) else None)
        if key is None:
            return TokenRejected("unknown_key", "token is signed with an unknown key")
        if not key.fits(alg):
            return TokenRejected("algorithm_not_allowed", "token algorithm does not match its key")
        try:
            claims = jwt.decode(
                token,
                key.jwk.key,
                algorithms=[alg],
                audience=issuer.audience,
                issuer=issuer.issuer,
                leeway=issuer.leeway_s,
                options={"require": ["exp", "iss", "aud", issuer.claims.subject]},
            )
        except jwt_errors.PyJWTError as exc:
            for kind, code, message in _REASONS:
                if isinstance(exc, kind):
                    return TokenRejected(code, message)
            return TokenRejected("invalid_token", "token is invalid")
        principal = map_claims(claims, issuer)
        if principal is None:
            return TokenRejected("missing_claim", "token lacks a usable subject")
        if len(self._verified) >= _CACHE_LIMIT:
            self._verified.clear()
        self._verified[digest] = (float(claims["exp"]), principal)
        return principal


_MAX_ID = 1024


def _usable_id(value: object) -> bool:
    """A claim that can name a principal: a printable string (no control characters, no lone
    surrogates — the audit trail could not store or hash such an id), not absurdly long."""
    return isinstance(value, str) and 0 < len(value) <= _MAX_ID and value.isprintable()


def map_claims(claims: Mapping[str, Any], issuer: JwtIssuerConfig) -> Principal | None:
    """sub → user; a custom agent claim → agent acting for sub; groups → team; roles → roles."""
    mapping = issuer.claims
    subject = claims.get(mapping.subject)
    if not isinstance(subject, str) or not _usable_id(subject):
        return None
    team = next(
        (mapping.team_map[g] for g in _strings(claims.get(mapping.groups)) if g in mapping.team_map), None
    )
    roles = tuple(r for r in _strings(claims.get(mapping.roles)) if r in ROLES)
    agent = claims.get(mapping.agent)
    if agent is not None and not _usable_id(agent):
        return None
    if isinstance(agent, str) and agent:
        return Principal(
            kind="agent",
            id=agent,
            org_id=issuer.org_id,
            team_id=team,
            on_behalf_of=subject if subject != agent else None,
            roles=roles,
        )
    return Principal(kind="user", id=subject, org_id=issuer.org_id, team_id=team, roles=roles)
