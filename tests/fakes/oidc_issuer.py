"""A local OIDC issuer: discovery document, JWKS, and tokens signed in the tests.

Runs on 127.0.0.1 in a background thread (``tests.support.app_thread``, like ``FakeOpenAI``).
It holds an RSA and an EC key; ``rotate()`` replaces the RSA key with a new one under a new
``kid``. Helpers forge the tokens an attacker would try: ``alg: none`` and HS256 keyed with the
RSA public key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from types import TracebackType
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from tests.support.app_thread import AppThread

AUDIENCE = "tollhouse-test"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class FakeIssuer:
    """An OIDC provider whose signing keys the tests control."""

    def __init__(self) -> None:
        self.host = "127.0.0.1"
        self.port = 0
        self.issuer = ""
        self.jwks_fetches = 0
        self._rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._rsa_kid = "rsa-1"
        self._ec = ec.generate_private_key(ec.SECP256R1())
        self._server = AppThread(self._app, name="FakeIssuer", host=self.host)

    # keys and tokens

    def jwks(self) -> dict[str, Any]:
        rsa_jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._rsa.public_key()))
        ec_jwk = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self._ec.public_key()))
        rsa_jwk.update(kid=self._rsa_kid, use="sig", alg="RS256")
        ec_jwk.update(kid="ec-1", use="sig", alg="ES256")
        return {"keys": [rsa_jwk, ec_jwk]}

    def rotate(self) -> None:
        """A new RSA signing key under a new kid; the old one is no longer published."""
        self._rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self._rsa_kid = f"rsa-{int(self._rsa_kid.split('-')[1]) + 1}"

    def claims(self, **overrides: Any) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": AUDIENCE,
            "sub": "alice",
            "iat": now,
            "exp": now + 300,
            "groups": ["ml-engineers"],
            "roles": ["viewer"],
        }
        claims.update(overrides)
        return {k: v for k, v in claims.items() if v is not None}

    def token(self, alg: str = "RS256", kid: str | None = None, **overrides: Any) -> str:
        key: Any = self._rsa if alg.startswith(("RS", "PS")) else self._ec
        default_kid = self._rsa_kid if key is self._rsa else "ec-1"
        return jwt.encode(self.claims(**overrides), key, algorithm=alg, headers={"kid": kid or default_kid})

    def foreign_token(self, kid: str = "stranger", **overrides: Any) -> str:
        """Signed by a key the issuer never published (by default under a kid it never used)."""
        stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return jwt.encode(self.claims(**overrides), stranger, algorithm="RS256", headers={"kid": kid})

    def none_token(self, **overrides: Any) -> str:
        header = _b64(json.dumps({"alg": "none", "typ": "JWT", "kid": self._rsa_kid}).encode())
        return f"{header}.{_b64(json.dumps(self.claims(**overrides)).encode())}."

    def hs_confusion_token(self, **overrides: Any) -> str:
        """HS256 whose HMAC secret is the RSA public key as published: the classic confusion."""
        pem = self._rsa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        header = _b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": self._rsa_kid}).encode())
        body = _b64(json.dumps(self.claims(**overrides)).encode())
        signature = hmac.new(pem, f"{header}.{body}".encode(), hashlib.sha256).digest()
        return f"{header}.{body}.{_b64(signature)}"

    # the server

    def _app(self) -> web.Application:
        async def discovery(_request: web.Request) -> web.Response:
            return web.json_response({"issuer": self.issuer, "jwks_uri": f"{self.issuer}/jwks"})

        async def jwks(_request: web.Request) -> web.Response:
            self.jwks_fetches += 1
            return web.json_response(self.jwks())

        app = web.Application()
        app.router.add_get("/.well-known/openid-configuration", discovery)
        app.router.add_get("/jwks", jwks)
        return app

    def start(self) -> FakeIssuer:
        self._server.start()
        self.port = self._server.port
        self.issuer = self._server.origin
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeIssuer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
