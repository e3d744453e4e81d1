"""A local fake of Google's OAuth 2 token endpoint for service accounts (``POST /token``).

It does what https://oauth2.googleapis.com/token does with a JWT bearer grant
(https://developers.google.com/identity/protocols/oauth2/service-account#httprest): checks
the form's ``grant_type``, verifies the assertion's RS256 signature with the public key of
the account named in ``iss`` (and the ``kid`` header), its ``aud`` (this endpoint), its
``scope`` and a lifetime of at most an hour, then answers ``{"access_token", "expires_in",
"token_type": "Bearer"}``. A refusal is ``400 {"error": "invalid_grant", ...}``. Minted
tokens are recorded and handed to ``on_mint`` (so a fake Vertex AI can accept them).
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable
from typing import Any

import jwt
import orjson
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import rsa

from .loopback import LoopbackServer, json_response

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:jwt-bearer"


def _refuse(description: str) -> web.Response:
    return json_response({"error": "invalid_grant", "error_description": description}, 400)


def _kid(assertion: str) -> str | None:
    try:
        header = orjson.loads(base64.urlsafe_b64decode(assertion.split(".")[0] + "=="))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return None
    kid = header.get("kid") if isinstance(header, dict) else None
    return kid if isinstance(kid, str) else None


class FakeGoogleOAuth(LoopbackServer):
    """Knows one service account (``email``, ``key_id``, ``public_key``); tokens last ``expires_in`` s."""

    def __init__(
        self,
        email: str,
        key_id: str,
        public_key: rsa.RSAPublicKey,
        expires_in: int = 3599,
        on_mint: Callable[[str], None] = lambda token: None,
    ) -> None:
        super().__init__()
        self.email, self.key_id, self.public_key = email, key_id, public_key
        self.expires_in = expires_in
        self.on_mint = on_mint
        self.minted: list[str] = []
        self.claims: list[dict[str, Any]] = []  # the verified assertions, in order
        self.fail_with: int | None = None  # answer this status instead (a failing endpoint)

    @property
    def token_uri(self) -> str:
        return f"{self.base_url}/token"

    def routes(self, app: web.Application) -> None:
        app.router.add_post("/token", self._token)

    async def _token(self, request: web.Request) -> web.StreamResponse:
        if self.fail_with is not None:
            return json_response({"error": "internal_failure"}, self.fail_with)
        form = await request.post()
        if form.get("grant_type") != GRANT_TYPE:
            return json_response({"error": "unsupported_grant_type"}, 400)
        assertion = str(form.get("assertion", ""))
        if _kid(assertion) != self.key_id:
            return _refuse("Invalid JWT Signature.")
        try:
            claims = jwt.decode(
                assertion,
                self.public_key,
                algorithms=["RS256"],
                audience=self.token_uri,
                issuer=self.email,
                options={"require": ["iss", "aud", "iat", "exp", "scope"]},
            )
        except jwt.InvalidTokenError as exc:
            return _refuse(f"Invalid JWT: {type(exc).__name__}")
        if claims["exp"] - claims["iat"] > 3600 or "cloud-platform" not in claims["scope"]:
            return _refuse("Invalid JWT: lifetime or scope")
        token = f"ya29.fake-sa-{len(self.minted) + 1}"
        self.minted.append(token)
        self.claims.append(claims)
        self.on_mint(token)
        return json_response({"access_token": token, "expires_in": self.expires_in, "token_type": "Bearer"})
