"""Authenticate a caller: master key, then virtual key (``th-…``), then a JWT bearer token.

The virtual-key step is one SHA-256 and one dict lookup in the in-memory snapshot (see
``identity.keys`` for why that is safe without ``compare_digest``); last use is recorded
in memory and written in batches. Nothing here awaits I/O, except a JWT whose signing key
is not cached yet.
"""

from __future__ import annotations

import hmac
import re
import time
from collections.abc import Sequence
from dataclasses import replace

from tollhouse.config.secrets import Secret
from tollhouse.errors import Forbidden, Unauthenticated
from tollhouse.identity.keys import key_digest, looks_like_virtual_key
from tollhouse.identity.principal import ANONYMOUS, Principal
from tollhouse.identity.snapshot import IdentityState, KeyEntry
from tollhouse.identity.tokens import TokenRejected, TokenVerifier, looks_like_jwt
from tollhouse.pipeline.context import RequestContext
from tollhouse.pipeline.outcome import Deny, Outcome
from tollhouse.pipeline.phases import Phase
from tollhouse.pipeline.policy import Policy
from tollhouse.policies.master_key import presented_key

_USER_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$")


class VirtualKeyAuth(Policy):
    """The gateway's authentication step: tries each way in, in a fixed order.

    A master key is checked first, exactly as ``MasterKeyAuth`` does (constant time against
    every configured key, same principals); the same digest then finds a virtual key, and a
    JWT-shaped token is verified against the configured issuers. Hashing once for both
    lookups keeps key authentication within a few microseconds of master-key authentication. The principal it sets carries the org, team, roles,
    key id and, when the key's owner may delegate, the user named in the delegation header.
    """

    name = "authenticate"
    phase = Phase.AUTHENTICATE

    def __init__(
        self,
        master_keys: Sequence[Secret],
        state: IdentityState | None,
        tokens: TokenVerifier | None = None,
        delegation_header: str = "x-tollhouse-on-behalf-of",
        allow_unauthenticated: bool = False,
    ) -> None:
        self._master = tuple(key_digest(k.reveal()) for k in master_keys)
        self._master_principals = tuple(
            Principal(kind="master", id=f"master-{i}", roles=("admin",)) for i in range(len(master_keys))
        )
        self._open = allow_unauthenticated
        self._state = state
        self._tokens = tokens
        self._delegation_header = delegation_header

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        key = presented_key(ctx.headers)
        if key is None:
            if self._open:
                ctx.principal = ANONYMOUS
                return None
            error = Unauthenticated("missing API key: send Authorization: Bearer <key>")
            return Deny(error, "no_key", self.name)
        digest = key_digest(key)
        matched = -1
        for index, known in enumerate(self._master):  # no early exit: timing names no key
            if hmac.compare_digest(digest, known):
                matched = index
        if matched >= 0:
            ctx.principal = self._master_principals[matched]
            return None
        if self._state is not None and looks_like_virtual_key(key):
            entry = self._state.current.keys.get(digest)
            if entry is not None:
                return self._accept_key(ctx, self._state, entry)
        elif self._tokens is not None and looks_like_jwt(key):
            verified = await self._tokens.verify(key)
            if isinstance(verified, TokenRejected):
                return Deny(Unauthenticated(f"invalid token: {verified.message}"), verified.code, self.name)
            # A token states its own delegation (agent claim + sub); a header cannot change it.
            return self._delegate(ctx, verified, may_delegate=False)
        return Deny(Unauthenticated("invalid API key"), "bad_key", self.name)

    def _accept_key(self, ctx: RequestContext, state: IdentityState, entry: KeyEntry) -> Outcome | None:
        now = time.time()
        if entry.expires_at <= now:
            return Deny(Unauthenticated("API key expired"), "key_expired", self.name)
        state.touch(entry.key_id, now)
        return self._delegate(ctx, entry.principal, entry.can_delegate)

    def _delegate(self, ctx: RequestContext, principal: Principal, may_delegate: bool) -> Outcome | None:
        user = ctx.headers.get(self._delegation_header)
        if user is None or user == principal.on_behalf_of:
            ctx.principal = principal
            return None
        if not may_delegate or principal.kind != "agent":
            error = Forbidden(f"this caller may not act on behalf of users ({self._delegation_header})")
            return Deny(error, "delegation_not_allowed", self.name)
        known = self._state.current.principals.get(user) if self._state is not None else None
        if not _USER_ID_RE.match(user) or known is None or known.kind != "user" or known.disabled:
            return Deny(
                Forbidden("unknown user in the delegation header"), "delegation_unknown_user", self.name
            )
        ctx.principal = replace(principal, on_behalf_of=user)
        return None
