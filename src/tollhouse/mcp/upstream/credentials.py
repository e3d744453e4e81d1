"""The gateway's own credentials for an upstream: static headers, or an OAuth access token
from the client credentials grant, fetched when needed and reused until shortly before it
expires. A caller's token never reaches an upstream."""

from __future__ import annotations

import asyncio
import time
from typing import Protocol

import aiohttp
import orjson

from tollhouse.config.secrets import Secret
from tollhouse.errors import UpstreamAuthFailed, UpstreamUnavailable
from tollhouse.mcp.config import OAuthClientCredentials
from tollhouse.upstream.pool import UpstreamPool

_EARLY_S = 30.0  # renew this long before the token expires


class HeaderSource(Protocol):
    """What an upstream link asks for its credentials."""

    async def headers(self) -> dict[str, str]: ...

    def invalidate(self) -> None: ...


class Credentials:
    """Headers an upstream gets on every request."""

    def __init__(
        self,
        server: str,
        static: dict[str, Secret],
        oauth: OAuthClientCredentials | None = None,
        client_secret: Secret | None = None,
        pool: UpstreamPool | None = None,
    ) -> None:
        self._server = server
        self._static = {k: v.reveal() for k, v in static.items()}
        self._oauth = oauth
        self._secret = client_secret
        self._pool = pool
        self._token: str | None = None
        self._expires = 0.0
        self._lock = asyncio.Lock()
        self.vault_wanted: dict[str, tuple[str, str]] = {}  # header → (credential name, prefix)
        self._vault_missing = False

    def want_vault(self, header: str, credential: str, prefix: str) -> None:
        """``header`` comes from the vault; until it is loaded, requests are refused."""
        self.vault_wanted[header] = (credential, prefix)
        self._vault_missing = True

    def load_vault(self, values: dict[str, Secret]) -> None:
        """The vault's current values for the wanted headers (by credential name)."""
        static = {k: v for k, v in self._static.items() if k not in self.vault_wanted}
        missing = False
        for header, (name, prefix) in self.vault_wanted.items():
            secret = values.get(name)
            if secret is None:
                missing = True
                continue
            static[header] = prefix + secret.reveal()
        self._static, self._vault_missing = static, missing

    async def headers(self) -> dict[str, str]:
        if self._vault_missing:
            raise UpstreamAuthFailed(f"a vault credential of MCP server {self._server} is not available")
        if self._oauth is None:
            return self._static
        if self._token is None or time.monotonic() >= self._expires:
            async with self._lock:
                if self._token is None or time.monotonic() >= self._expires:
                    await self._fetch()
        return {**self._static, "authorization": f"Bearer {self._token}"}

    def invalidate(self) -> None:
        """The upstream refused the token: fetch a new one next time."""
        self._token = None

    async def _fetch(self) -> None:
        assert self._oauth is not None
        assert self._secret is not None
        assert self._pool is not None
        form = {
            "grant_type": "client_credentials",
            "client_id": self._oauth.client_id,
            "client_secret": self._secret.reveal(),
        }
        if self._oauth.scope:
            form["scope"] = self._oauth.scope
        if self._oauth.audience:
            form["audience"] = self._oauth.audience
        session = self._pool.session(self._oauth.token_url, 16)
        try:
            async with session.post(
                self._oauth.token_url, data=form, timeout=aiohttp.ClientTimeout(total=15)
            ) as response:
                body = await response.read()
                status = response.status
        except (TimeoutError, aiohttp.ClientError, OSError) as exc:
            raise UpstreamUnavailable(
                f"cannot reach the token endpoint of MCP server {self._server}"
            ) from exc
        data = orjson.loads(body) if status == 200 else {}
        token = data.get("access_token") if isinstance(data, dict) else None
        if not isinstance(token, str):
            raise UpstreamAuthFailed(f"the token endpoint of MCP server {self._server} refused the gateway")
        lifetime = float(data.get("expires_in") or 3600)
        self._token = token
        self._expires = time.monotonic() + max(lifetime - _EARLY_S, lifetime / 2)
