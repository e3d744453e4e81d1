"""Signing keys of trusted OIDC issuers: discovery, JWKS fetch, caching and rotation.

Keys are fetched at start and kept for ``jwks_ttl_s``; a token signed with a key id the
cache does not know triggers one refetch (the issuer may have rotated), at most once per
``min_refetch_s`` so tokens with made-up key ids cannot make the gateway hammer the issuer.
Concurrent misses share one fetch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
from jwt import PyJWK
from jwt.exceptions import PyJWKError

log = logging.getLogger("tollhouse.identity")

_KTY_ALGS = {
    "RSA": frozenset({"RS256", "RS384", "RS512", "PS256"}),
    "EC": frozenset({"ES256", "ES384"}),
    "OKP": frozenset({"EdDSA"}),
}


@dataclass(frozen=True, slots=True)
class SigningKey:
    """A public key from a JWKS, with the key type and algorithm it was published for."""

    jwk: PyJWK
    kty: str
    alg: str | None

    def fits(self, alg: str) -> bool:
        """Whether ``alg`` may be verified with this key: an RSA key never verifies an HMAC."""
        return alg in _KTY_ALGS.get(self.kty, frozenset()) and self.alg in (None, alg)


class JwksCache:
    """One issuer's keys by ``kid``."""

    def __init__(
        self,
        issuer: str,
        jwks_url: str | None,
        ttl_s: float,
        min_refetch_s: float = 30.0,
        timeout_s: float = 5.0,
    ) -> None:
        self.issuer = issuer
        self._jwks_url = jwks_url
        self._ttl = ttl_s
        self._min_refetch = min_refetch_s
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._keys: dict[str, SigningKey] = {}
        self._fetched_at = -float("inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> SigningKey | None:
        """The key for ``kid`` (or the only key when the token names none); None if unknown."""
        now = time.monotonic()
        if now - self._fetched_at > self._ttl:
            await self._refetch(now, force=True)
        found = self._lookup(kid)
        if found is None and time.monotonic() - self._fetched_at >= self._min_refetch:
            await self._refetch(time.monotonic(), force=False)
            found = self._lookup(kid)
        return found

    def _lookup(self, kid: str | None) -> SigningKey | None:
        if kid is not None:
            return self._keys.get(kid)
        return next(iter(self._keys.values())) if len(self._keys) == 1 else None

    async def _refetch(self, asked_at: float, force: bool) -> None:
        async with self._lock:
            if self._fetched_at >= asked_at or (
                not force and asked_at - self._fetched_at < self._min_refetch
            ):
                return  # another caller fetched while we waited
            try:
                self._keys = await self._fetch()
            except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
                # Keep the keys we had: an issuer outage must not reject every valid token.
                log.warning("fetching signing keys of %s failed: %s", self.issuer, type(exc).__name__)
            self._fetched_at = time.monotonic()

    async def _fetch(self) -> dict[str, SigningKey]:
        async with aiohttp.ClientSession(timeout=self._timeout) as session:
            url = self._jwks_url or await self._discover(session)
            async with session.get(url) as response:
                response.raise_for_status()
                document = await response.json(content_type=None)
        if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
            raise ValueError("JWKS document without a key list")
        keys: dict[str, SigningKey] = {}
        for data in document["keys"]:
            if not isinstance(data, dict) or data.get("use", "sig") != "sig" or data.get("kty") == "oct":
                continue  # symmetric keys are never trusted from a JWKS
            try:
                jwk = PyJWK(data)
            except (PyJWKError, KeyError, ValueError, TypeError):
                continue
            alg = data.get("alg")
            keys[str(data.get("kid", ""))] = SigningKey(
                jwk, str(data["kty"]), alg if isinstance(alg, str) else None
            )
        return keys

    async def _discover(self, session: aiohttp.ClientSession) -> str:
        async with session.get(f"{self.issuer}/.well-known/openid-configuration") as response:
            response.raise_for_status()
            document: Any = await response.json(content_type=None)
        if not isinstance(document, dict) or document.get("issuer", "").rstrip("/") != self.issuer:
            raise ValueError("discovery document names another issuer")
        url = document.get("jwks_uri")
        if not isinstance(url, str) or not url.startswith(("https://", "http://")):
            raise ValueError("discovery document without jwks_uri")
        self._jwks_url = url
        return url
