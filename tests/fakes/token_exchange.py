"""A local OAuth token endpoint speaking RFC 8693 token exchange.

``POST /token`` with ``grant_type=urn:ietf:params:oauth:grant-type:token-exchange``: the client
authenticates with HTTP Basic (``client_secret_basic``) or form fields; the ``subject_token`` must
be a JWT signed by the given ``FakeIssuer``. The answer is an access token naming the subject
(``xchg-{sub}-{n}``), which ``issued`` remembers so a fake upstream can accept exactly those.
``fail_with`` makes the endpoint refuse (an OAuth error whose description echoes the subject
token, as a careless server might, so tests can check the gateway never repeats it).
"""

from __future__ import annotations

import base64
import itertools
from types import TracebackType
from typing import Any
from urllib.parse import unquote

import jwt
from aiohttp import web

from tests.fakes.oidc_issuer import FakeIssuer
from tests.support.app_thread import AppThread

GRANT = "urn:ietf:params:oauth:grant-type:token-exchange"
ACCESS_TOKEN = "urn:ietf:params:oauth:token-type:access_token"


class FakeTokenExchange:
    """The token endpoint; ``requests`` holds every form it received (with the client id used)."""

    def __init__(self, issuer: FakeIssuer, client_id: str, client_secret: str, expires_in: int = 300) -> None:
        self.issuer = issuer
        self.client_id = client_id
        self.client_secret = client_secret
        self.expires_in = expires_in
        self.requests: list[dict[str, str]] = []
        self.issued: dict[str, str] = {}  # access token → subject
        self.fail_with: str | None = None
        self._count = itertools.count(1)
        self._server = AppThread(self._app, name="FakeTokenExchange", host="127.0.0.1")
        self.url = ""

    def _client(self, request: web.Request, form: dict[str, str]) -> tuple[str, str] | None:
        header = request.headers.get("authorization", "")
        if header.startswith("Basic "):
            raw = base64.b64decode(header[6:]).decode()
            user, _, password = raw.partition(":")
            return unquote(user), unquote(password)
        if "client_id" in form:
            return form["client_id"], form.get("client_secret", "")
        return None

    def _app(self) -> web.Application:
        async def token(request: web.Request) -> web.Response:
            form = {k: str(v) for k, v in (await request.post()).items()}
            client = self._client(request, form)
            self.requests.append({**form, "_client": client[0] if client else ""})
            if client != (self.client_id, self.client_secret):
                return web.json_response({"error": "invalid_client"}, status=401)
            if form.get("grant_type") != GRANT:
                return web.json_response({"error": "unsupported_grant_type"}, status=400)
            subject_token = form.get("subject_token", "")
            if self.fail_with is not None:
                description = f"cannot exchange {subject_token}"
                return web.json_response(
                    {"error": self.fail_with, "error_description": description}, status=400
                )
            try:
                claims = jwt.decode(
                    subject_token,
                    jwt.PyJWK.from_dict(self.issuer.jwks()["keys"][0]).key,
                    algorithms=["RS256"],
                    options={"verify_aud": False},
                )
            except jwt.PyJWTError:
                return web.json_response({"error": "invalid_grant"}, status=400)
            access = f"xchg-{claims['sub']}-{next(self._count)}"
            self.issued[access] = str(claims["sub"])
            body: dict[str, Any] = {
                "access_token": access,
                "issued_token_type": ACCESS_TOKEN,
                "token_type": "Bearer",
                "expires_in": self.expires_in,
            }
            return web.json_response(body)

        app = web.Application()
        app.router.add_post("/token", token)
        return app

    def start(self) -> FakeTokenExchange:
        self._server.start()
        self.url = f"{self._server.origin}/token"
        return self

    def __enter__(self) -> FakeTokenExchange:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._server.stop()
