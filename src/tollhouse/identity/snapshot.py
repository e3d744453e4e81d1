"""The in-memory identity snapshot the hot path reads, and the holder that swaps it.

A snapshot is immutable: keys by digest, principals, and the Cedar engine built from the
same rows. Refreshing builds a new one off the hot path and replaces the reference in one
assignment, so a request sees either the old or the new snapshot, never a mix.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from tollhouse.identity.cedar_engine import PolicyEngine, parse_policies
from tollhouse.identity.errors import InvalidInput
from tollhouse.identity.principal import Principal
from tollhouse.identity.records import KeyRecord, PrincipalRecord, Scopes, Team
from tollhouse.identity.store.loader import Loaded

log = logging.getLogger("tollhouse.identity")


@dataclass(frozen=True, slots=True)
class KeyEntry:
    """A usable key, with the principal it authenticates as prebuilt."""

    key_id: str
    principal: Principal
    scopes: Scopes
    expires_at: float  # math.inf when the key does not expire
    can_delegate: bool
    scoped: bool = False  # limited to some models or surfaces: only then are scopes checked


@dataclass(frozen=True, slots=True)
class IdentitySnapshot:
    version: int
    keys: Mapping[bytes, KeyEntry]  # SHA-256 digest of the key → entry
    key_ids: Mapping[str, KeyEntry]
    principals: Mapping[str, PrincipalRecord]
    teams: Mapping[str, Team]
    engine: PolicyEngine


def _principal(record: PrincipalRecord, key_id: str) -> Principal:
    return Principal(
        kind=record.kind,
        id=record.id,
        org_id=record.org_id,
        team_id=record.team_id,
        key_id=key_id,
        roles=record.roles,
        tags=record.tags,
    )


def _entry(key: KeyRecord, owner: PrincipalRecord) -> KeyEntry:
    expires = math.inf if key.expires_at is None else key.expires_at
    scoped = bool(key.scopes.models or key.scopes.surfaces)
    return KeyEntry(key.id, _principal(owner, key.id), key.scopes, expires, owner.can_delegate, scoped)


def build_snapshot(
    loaded: Loaded,
    config_policies: Sequence[tuple[str, str]] = (),
    users_default: str = "allow",
    cache_ttl_s: float = 5.0,
) -> IdentitySnapshot:
    """Index ``loaded`` for lookups; keys of disabled principals are left out."""
    principals = {p.id: p for p in loaded.principals}
    by_digest: dict[bytes, KeyEntry] = {}
    by_id: dict[str, KeyEntry] = {}
    for key in loaded.keys:
        owner = principals.get(key.principal_id)
        if owner is None or owner.disabled:
            continue
        entry = _entry(key, owner)
        by_digest[bytes.fromhex(key.digest)] = entry
        by_id[key.id] = entry
    policies = list(config_policies)
    for stored in loaded.policies:
        try:
            parse_policies(stored.id, stored.text)
        except InvalidInput:
            # The admin API validates before storing; a row edited behind its back is skipped
            # loudly rather than stopping every later refresh (and so every revocation).
            log.error("stored policy %s is not valid Cedar; skipped", stored.id)
            continue
        policies.append((stored.id, stored.text))
    engine = PolicyEngine(policies, loaded.principals, loaded.teams, users_default, cache_ttl_s)
    return IdentitySnapshot(
        version=loaded.version,
        keys=MappingProxyType(by_digest),
        key_ids=MappingProxyType(by_id),
        principals=MappingProxyType(principals),
        teams=MappingProxyType({t.id: t for t in loaded.teams}),
        engine=engine,
    )


EMPTY = Loaded(version=0, teams=[], principals=[], keys=[], policies=[])


class IdentityState:
    """Holds the current snapshot and the keys used since the last flush.

    ``current`` is replaced whole by the refresher; ``touch`` is a dict assignment, so the
    hot path records a key's use without I/O and the refresher writes them in batches.
    """

    __slots__ = ("_used", "current")

    def __init__(self, snapshot: IdentitySnapshot) -> None:
        self.current = snapshot
        self._used: dict[str, float] = {}

    def touch(self, key_id: str, now: float) -> None:
        self._used[key_id] = now

    def take_used(self) -> dict[str, float]:
        used, self._used = self._used, {}
        return used

    def restore_used(self, used: dict[str, float]) -> None:
        """Put back a batch that could not be written; a newer use wins over it."""
        for key_id, at in used.items():
            if self._used.get(key_id, 0.0) < at:
                self._used[key_id] = at
