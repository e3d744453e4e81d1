"""RFC 8693 token exchange: an upstream's bearer token made from the caller's own.

The caller's inbound token (a JWT the gateway has already validated) is the
``subject_token``; the gateway authenticates as its own OAuth client (its secret from the
vault or a secret reference) and gets a token for the upstream. Exchanged tokens are cached
per caller (principal) until shortly before they — or the caller's token — expire. The
caller's token is sent to the token endpoint only, never to the upstream.

Errors name the server and the endpoint's OAuth ``error`` code, never a token or secret.
"""

from __future__ import annotations

import asyncio
import base64
import re
import time
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass
from urllib.parse import quote

import aiohttp
import jwt
import orjson

from tollhouse.errors import UpstreamAuthFailed, UpstreamUnavailable
from tollhouse.mcp.config import TokenExchangeConfig
from tollhouse.mcp.upstream.credentials import Credentials
from tollhouse.upstream.pool import UpstreamPool

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:token-exchange"
_EARLY_S = 30.0  # renew this long before expiry
_ERROR_CODE = re.compile(r"^[a-z_]{1,64}$")  # an OAuth error code is safe to repeat; a description may not be
_SECRET_HEADER = "client-secret"  # noqa: S105 (a name: the vault-backed Credentials hold the secret under it)


@dataclass(slots=True)
class Subject:
    """The caller a request is made for: its principal key and validated bearer token."""

    key: str  # "kind:id"
    token: str
    expires: float | None  # the token's `exp` (epoch seconds), when it has one


# The subject of the MCP request being handled; set per request by the handlers.
CURRENT_SUBJECT: ContextVar[Subject | None] = ContextVar("mcp_subject", default=None)


def subject_of(principal_key: str, bearer: str | None) -> Subject | None:
    """The exchangeable subject: a caller that authenticated with a JWT (virtual and master
    keys are the gateway's own secrets, never exchanged). ``bearer`` has been validated."""
    if bearer is None or bearer.count(".") != 2:
        return None
    try:
        claims = jwt.decode(bearer, options={"verify_signature": False})  # verified by authentication
    except jwt.PyJWTError:
        return None
    exp = claims.get("exp")
    return Subject(principal_key, bearer, float(exp) if isinstance(exp, int | float) else None)


class ClientSecret:
    """The gateway client's secret: a resolved secret reference, or a vault credential that
    the vault loader keeps current (held by a ``Credentials`` under a pseudo header)."""

    def __init__(self, server: str, fixed: str | None = None, vaulted: Credentials | None = None) -> None:
        self._server = server
        self._fixed = fixed
        self.vaulted = vaulted

    async def value(self) -> str:
        if self._fixed is not None:
            return self._fixed
        assert self.vaulted is not None
        return (await self.vaulted.headers())[_SECRET_HEADER]

    @staticmethod
    def from_vault(server: str, credential: str) -> ClientSecret:
        holder = Credentials(server, {})
        holder.want_vault(_SECRET_HEADER, credential, "")
        return ClientSecret(server, vaulted=holder)


class TokenExchanger:
    """Exchanges callers' tokens for one upstream and caches the results per caller."""

    def __init__(
        self, server: str, config: TokenExchangeConfig, secret: ClientSecret, pool: UpstreamPool
    ) -> None:
        self._server = server
        self._config = config
        self._secret = secret
        self._pool = pool
        self._cache: OrderedDict[str, tuple[str, float]] = OrderedDict()  # key → (token, monotonic expiry)
        self._locks: dict[str, asyncio.Lock] = {}
        self.exchanges = 0  # how many times the endpoint was asked (for tests and metrics)

    async def token(self, subject: Subject) -> str:
        """The upstream token for ``subject``: cached, or exchanged now."""
        cached = self._fresh(subject.key)
        if cached is not None:
            return cached
        if len(self._locks) > 2 * self._config.max_subjects:  # keep the idle ones bounded
            self._locks = {k: v for k, v in self._locks.items() if v.locked()}
        async with self._locks.setdefault(subject.key, asyncio.Lock()):  # one exchange per caller
            cached = self._fresh(subject.key)
            if cached is not None:
                return cached
            token, lifetime = await self._exchange(subject)
        if subject.expires is not None:  # never outlive the caller's own token
            lifetime = min(lifetime, subject.expires - time.time())
        early = min(_EARLY_S, lifetime / 2)
        self._cache[subject.key] = (token, time.monotonic() + lifetime - early)
        self._cache.move_to_end(subject.key)
        while len(self._cache) > self._config.max_subjects:
            self._cache.popitem(last=False)
        return token

    def forget(self, key: str) -> None:
        """The upstream refused the token: exchange again next time."""
        self._cache.pop(key, None)

    def _fresh(self, key: str) -> str | None:
        entry = self._cache.get(key)
        if entry is None or time.monotonic() >= entry[1]:
            return None
        return entry[0]

    async def _exchange(self, subject: Subject) -> tuple[str, float]:
        c = self._config
        form = {
            "grant_type": GRANT_TYPE,
            "subject_token": subject.token,
            "subject_token_type": c.subject_token_type,
        }
        for name, value in (
            ("requested_token_type", c.requested_token_type),
            ("audience", c.audience),
            ("resource", c.resource),
            ("scope", c.scope),
        ):
            if value:
                form[name] = value
        secret = await self._secret.value()
        headers = {"accept": "application/json"}
        if c.client_auth == "basic":  # RFC 6749 §2.3.1: each part form-urlencoded first
            pair = f"{quote(c.client_id, safe='')}:{quote(secret, safe='')}".encode()
            headers["authorization"] = "Basic " + base64.b64encode(pair).decode()
        else:
            form["client_id"], form["client_secret"] = c.client_id, secret
        self.exchanges += 1
        session = self._pool.session(c.token_url, 16)
        try:
            async with session.post(
                c.token_url, data=form, headers=headers, timeout=aiohttp.ClientTimeout(total=15)
            ) as response:
                body = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise UpstreamUnavailable(
                f"cannot reach the token exchange endpoint of MCP server {self._server}"
            ) from exc
        return self._parse(status, body)

    def _parse(self, status: int, body: bytes) -> tuple[str, float]:
        try:
            data = orjson.loads(body)
        except orjson.JSONDecodeError:
            data = None
        data = data if isinstance(data, dict) else {}
        if status != 200:
            code = data.get("error")
            why = f" ({code})" if isinstance(code, str) and _ERROR_CODE.match(code) else f" (HTTP {status})"
            raise UpstreamAuthFailed(
                f"the token endpoint of MCP server {self._server} refused to exchange the caller's token{why}"
            )
        token = data.get("access_token")
        token_type = str(data.get("token_type", "")).lower()
        if not isinstance(token, str) or not token or token_type not in ("bearer", "n_a"):
            raise UpstreamAuthFailed(
                f"the token endpoint of MCP server {self._server} returned no usable access token"
            )
        expires_in = data.get("expires_in")
        lifetime = float(expires_in) if isinstance(expires_in, int | float) and expires_in > 0 else 3600.0
        return token, lifetime


class SubjectCredentials:
    """The headers of one caller's upstream session: the exchanged token."""

    def __init__(self, exchanger: TokenExchanger, subject: Subject) -> None:
        self._exchanger = exchanger
        self.subject = subject  # replaced with the caller's latest token on each request

    async def headers(self) -> dict[str, str]:
        return {"authorization": f"Bearer {await self._exchanger.token(self.subject)}"}

    def invalidate(self) -> None:
        self._exchanger.forget(self.subject.key)
