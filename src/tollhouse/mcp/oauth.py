"""The gateway as an OAuth 2.1 protected resource for MCP clients (RFC 9728).

Each route is its own resource, ``{base}/mcp/{route}``; its metadata is served at
``/.well-known/oauth-protected-resource/mcp/{route}``. A 401 names it in
``WWW-Authenticate: Bearer resource_metadata="…"``. A bearer JWT must be for this route:
its ``aud`` must hold the route's audience (by default its resource URL) — a token minted
for another resource is refused, so no token meant for somewhere else is ever accepted.
"""

from __future__ import annotations

from typing import Any

import jwt

from tollhouse.identity.tokens import looks_like_jwt
from tollhouse.mcp.config import OAuthResourceConfig
from tollhouse.policies.master_key import presented_key

WELL_KNOWN = "/.well-known/oauth-protected-resource"


def base_url(config: OAuthResourceConfig, headers: dict[str, str]) -> str:
    """The public base URL: configured, else from the request's Host (loopback setups)."""
    if config.resource_base_url:
        return config.resource_base_url.rstrip("/")
    return f"http://{headers.get('host', '127.0.0.1')}"


def resource_url(config: OAuthResourceConfig, headers: dict[str, str], route: str) -> str:
    """The route's resource identifier (RFC 8707), the audience its tokens must name."""
    return f"{base_url(config, headers)}/mcp/{route}"


def metadata(config: OAuthResourceConfig, headers: dict[str, str], route: str) -> dict[str, Any]:
    """The route's Protected Resource Metadata document."""
    document: dict[str, Any] = {
        "resource": resource_url(config, headers, route),
        "authorization_servers": list(config.authorization_servers),
        "bearer_methods_supported": ["header"],
        "resource_name": f"Tollhouse MCP route {route}",
    }
    if config.scopes:
        document["scopes_supported"] = list(config.scopes)
    return document


def challenge(config: OAuthResourceConfig, headers: dict[str, str], route: str, error: str | None) -> str:
    """The ``WWW-Authenticate`` value of a 401 on ``route``."""
    url = f"{base_url(config, headers)}{WELL_KNOWN}/mcp/{route}"
    parts = [f'resource_metadata="{url}"']
    if error:
        parts.insert(0, f'error="{error}"')
    if config.scopes:
        parts.append(f'scope="{" ".join(config.scopes)}"')
    return "Bearer " + ", ".join(parts)


def audience_ok(headers: dict[str, str], expected: str) -> bool:
    """Whether a bearer JWT (already verified by authentication) names ``expected`` in ``aud``.
    Keys that are not JWTs (virtual and master keys) have no audience and pass."""
    token = presented_key(headers)
    if token is None or not looks_like_jwt(token):
        return True
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return False
    aud = claims.get("aud")
    audiences = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
    return expected in audiences or expected.rstrip("/") in audiences
