"""The gateway's own upstream credentials: static headers, OAuth client credentials."""

from __future__ import annotations

import pytest
from aiohttp import web

from tollhouse.config.secrets import Secret, SecretRef
from tollhouse.errors import UpstreamAuthFailed
from tollhouse.mcp.config import OAuthClientCredentials
from tollhouse.mcp.upstream.credentials import Credentials
from tollhouse.upstream.pool import UpstreamPool


async def _token_server(grants: list[dict[str, str]]) -> tuple[web.AppRunner, str]:
    async def token(request: web.Request) -> web.Response:
        form = dict(await request.post())
        grants.append(form)
        if form.get("client_secret") != "s3cret-value":
            return web.json_response({"error": "invalid_client"}, status=401)
        return web.json_response({"access_token": f"tok-{len(grants)}", "expires_in": 3600})

    app = web.Application()
    app.router.add_post("/token", token)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/token"


async def test_static_headers_are_sent_as_configured() -> None:
    credentials = Credentials("s", {"authorization": Secret("Bearer static")})
    assert await credentials.headers() == {"authorization": "Bearer static"}


async def test_client_credentials_are_fetched_once_and_renewed_when_refused() -> None:
    grants: list[dict[str, str]] = []
    runner, url = await _token_server(grants)
    pool = UpstreamPool()
    try:
        oauth = OAuthClientCredentials(
            token_url=url, client_id="gw", client_secret=SecretRef("s3cret-value"), scope="mcp", audience="up"
        )
        credentials = Credentials("s", {}, oauth, Secret("s3cret-value"), pool)
        assert (await credentials.headers())["authorization"] == "Bearer tok-1"
        assert (await credentials.headers())["authorization"] == "Bearer tok-1"
        credentials.invalidate()
        assert (await credentials.headers())["authorization"] == "Bearer tok-2"
        assert grants[0] == {
            "grant_type": "client_credentials", "client_id": "gw", "client_secret": "s3cret-value",
            "scope": "mcp", "audience": "up",
        }  # fmt: skip
        wrong = Credentials("s", {}, oauth, Secret("wrong"), pool)
        with pytest.raises(UpstreamAuthFailed):
            await wrong.headers()
    finally:
        await pool.close()
        await runner.cleanup()
