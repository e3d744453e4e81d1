"""OAuth 2 access tokens from a Google Cloud service-account key, for Vertex AI.

The key's private key signs a JWT (RS256) naming the account, the scope and the token URI;
the token URI exchanges it for an access token (the JWT bearer grant, RFC 7523; Google's
guide: https://developers.google.com/identity/protocols/oauth2/service-account#httprest).

A token is used until shortly before it expires. A call in the last minutes of its life
starts one refresh in the background and still goes out with the current token; only a call
with no usable token waits, and concurrent calls share one exchange. Signing happens once
per token (about an hour), so it stays off the per-request path.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
import jwt
import orjson
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from yarl import URL

from tollhouse.config.schema import Timeouts
from tollhouse.errors import UpstreamAuthFailed, UpstreamUnavailable
from tollhouse.upstream import attempt
from tollhouse.upstream.pool import UpstreamPool

SCOPE = "https://www.googleapis.com/auth/cloud-platform"
GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ASSERTION_LIFETIME_S = 3600  # the longest Google accepts
REFRESH_AHEAD_S = 300.0  # refresh in the background this long before expiry …
USABLE_MARGIN_S = 60.0  # … and stop using a token this long before it (clock skew, slow calls)


@dataclass(frozen=True, slots=True)
class ServiceAccountKey:
    """The parts of a service-account key file the token exchange needs."""

    client_email: str
    private_key: RSAPrivateKey
    private_key_id: str | None
    token_uri: str

    @classmethod
    def parse(cls, text: str) -> ServiceAccountKey:
        """Read a key file's JSON; errors name the problem, never the content."""
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            raise ValueError("service_account: not JSON (expected a service-account key file)") from None
        if not isinstance(data, dict) or data.get("type") != "service_account":
            raise ValueError('service_account: not a service-account key (`"type": "service_account"`)')
        fields = {name: data.get(name) for name in ("client_email", "private_key", "token_uri")}
        missing = sorted(name for name, value in fields.items() if not isinstance(value, str) or not value)
        if missing:
            raise ValueError(f"service_account: the key lacks {', '.join(missing)}")
        try:
            key = load_pem_private_key(str(fields["private_key"]).encode(), password=None)
        except (ValueError, TypeError):
            raise ValueError("service_account: private_key is not a PEM private key") from None
        if not isinstance(key, RSAPrivateKey):
            raise ValueError("service_account: private_key is not an RSA key")
        key_id = data.get("private_key_id")
        return cls(
            str(fields["client_email"]),
            key,
            key_id if isinstance(key_id, str) else None,
            str(fields["token_uri"]),
        )

    def assertion(self, now: float) -> str:
        """The signed JWT that asks the token URI for an access token."""
        claims = {"iss": self.client_email, "scope": SCOPE, "aud": self.token_uri,
                  "iat": int(now), "exp": int(now) + ASSERTION_LIFETIME_S}  # fmt: skip
        headers = {"kid": self.private_key_id} if self.private_key_id else None
        return jwt.encode(claims, self.private_key, algorithm="RS256", headers=headers)


class AccessTokens:
    """The current access token of one service account for the provider called ``provider``.

    ``clock`` (monotonic seconds) decides when a token is stale; tests move it."""

    def __init__(
        self,
        key: ServiceAccountKey,
        pool: UpstreamPool,
        provider: str,
        timeouts: Timeouts,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._key = key
        self._pool = pool
        self._provider = provider
        self._clock = clock
        self._url = URL(key.token_uri)
        self._origin = str(self._url.origin())
        self._timeout = aiohttp.ClientTimeout(
            total=min(timeouts.total_s, 30.0), sock_connect=timeouts.connect_s
        )
        self._token: str | None = None
        self._usable_until = 0.0
        self._refresh_at = 0.0
        self._exchange_task: asyncio.Task[None] | None = None

    async def token(self) -> str:
        """A usable access token, exchanging the key for a new one when needed."""
        now = self._clock()
        if self._token is not None and now < self._usable_until:
            if now >= self._refresh_at:
                self._exchange()  # in the background: this call keeps the current token
            return self._token
        # Shielded: a caller that gives up does not cancel the exchange others wait for.
        await asyncio.shield(self._exchange())
        assert self._token is not None
        return self._token

    def _exchange(self) -> asyncio.Task[None]:
        task = self._exchange_task
        if task is None or task.done():
            task = self._exchange_task = asyncio.create_task(self._fetch())
            task.add_done_callback(_observe)
        return task

    async def _fetch(self) -> None:
        now = self._clock()  # expiry is kept on this (monotonic) clock; the JWT carries wall time
        body = urlencode({"grant_type": GRANT_TYPE, "assertion": self._key.assertion(time.time())}).encode()
        session = self._pool.session(self._origin, 4)
        headers = {"content-type": "application/x-www-form-urlencoded"}
        response = await attempt.post(session, self._url, body, headers, self._timeout, self._provider)
        data = await attempt.read_body(response, self._provider)
        if response.status >= 400:
            raise _exchange_error(response.status, data, self._provider)
        token, lifetime = _grant(data, self._provider)
        expires_at = now + lifetime  # measured from before the request: errs on the early side
        self._token = token
        self._usable_until = expires_at - min(USABLE_MARGIN_S, lifetime / 10)
        self._refresh_at = expires_at - min(REFRESH_AHEAD_S, lifetime / 2)


def _observe(task: asyncio.Task[None]) -> None:
    """Mark a background exchange's failure as seen; the next call that needs a token retries."""
    if not task.cancelled():
        task.exception()


def _grant(data: bytes, provider: str) -> tuple[str, float]:
    try:
        parsed: Any = orjson.loads(data)
    except orjson.JSONDecodeError:
        parsed = None
    token = parsed.get("access_token") if isinstance(parsed, dict) else None
    expires_in = parsed.get("expires_in", 3600) if isinstance(parsed, dict) else None
    if not isinstance(token, str) or not token or not isinstance(expires_in, int) or expires_in <= 0:
        raise UpstreamUnavailable(f"provider {provider}: the token endpoint answered without an access token")
    return token, float(expires_in)


def _exchange_error(status: int, data: bytes, provider: str) -> UpstreamAuthFailed | UpstreamUnavailable:
    """The token endpoint refused (4xx: the key is wrong, disabled or deleted) or failed (5xx).
    Only the OAuth error code is named: descriptions may quote the key's id or the account."""
    if status >= 500 or status == 429:
        return UpstreamUnavailable(f"provider {provider}: the token endpoint failed with HTTP {status}")
    try:
        parsed: Any = orjson.loads(data)
    except orjson.JSONDecodeError:
        parsed = None
    code = parsed.get("error") if isinstance(parsed, dict) else None
    reason = code if isinstance(code, str) and code.replace("_", "").isalnum() else f"HTTP {status}"
    return UpstreamAuthFailed(
        f"provider {provider} could not get an access token for its service account: {reason}"
    )
