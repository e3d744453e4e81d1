"""Authenticate callers by master key (constant-time) from `Authorization` or `x-api-key`."""

from __future__ import annotations

import hashlib
import hmac

from tollhouse.config.secrets import Secret
from tollhouse.errors import Unauthenticated
from tollhouse.identity.principal import ANONYMOUS, Principal
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Deny, Outcome
from tollhouse.pipeline.phases import Phase
from tollhouse.pipeline.policy import Policy


def presented_key(headers: dict[str, str]) -> str | None:
    """The key a caller presents: `Authorization: Bearer K` (OpenAI) or `x-api-key: K` (Anthropic)."""
    auth = headers.get("authorization")
    if auth is not None:
        scheme, _, token = auth.partition(" ")
        return token.strip() if scheme.lower() == "bearer" and token.strip() else None
    return headers.get("x-api-key") or None


class MasterKeyAuth(Policy):
    """Accept a call that presents one of the configured master keys.

    Keys are compared as SHA-256 digests with ``hmac.compare_digest`` against every
    configured key (no early exit), so timing reveals neither the key nor which one matched.
    """

    name = "master_key"
    phase = Phase.AUTHENTICATE

    def __init__(self, keys: list[Secret], allow_unauthenticated: bool = False) -> None:
        self._digests = tuple(hashlib.sha256(k.reveal().encode()).digest() for k in keys)
        self._open = allow_unauthenticated
        self._principals = tuple(
            Principal(kind="master", id=f"master-{i}", roles=("admin",)) for i in range(len(keys))
        )

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        key = presented_key(ctx.headers)
        if key is None:
            if self._open:
                ctx.principal = ANONYMOUS
                return None
            return Deny(
                Unauthenticated("missing API key: send Authorization: Bearer <key>"), "no_key", self.name
            )
        digest = hashlib.sha256(key.encode("utf-8", "surrogateescape")).digest()
        matched = -1
        for index, known in enumerate(self._digests):
            if hmac.compare_digest(digest, known):
                matched = index
        if matched < 0:
            return Deny(Unauthenticated("invalid API key"), "bad_key", self.name)
        ctx.principal = self._principals[matched]
        return None
