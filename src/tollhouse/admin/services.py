"""The admin operations, shared by the admin API and the CLI.

Each change is one transaction (the stores bump the change counter in it), then a change
notification to every replica, then an admin event with the actor and the record before
and after. Role checks are not done here: the API checks the caller's role, the CLI is run
by the operator.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.admin.events import AdminEventSink, event
from tollhouse.admin.views import credential_view, key_view, org_view, policy_view, principal_view, team_view
from tollhouse.identity.cedar_engine import PolicyEngine, Verdict, parse_policies
from tollhouse.identity.change_feed import ChangeFeed
from tollhouse.identity.errors import InvalidInput, check_id, check_policy_id
from tollhouse.identity.keys import IssuedKey, KeyRequest, issue_key
from tollhouse.identity.principal import Principal
from tollhouse.identity.records import (
    CredentialRecord,
    KeyRecord,
    Org,
    PolicyRecord,
    PrincipalRecord,
    RecordKind,
    Team,
)
from tollhouse.identity.store.credential_store import CredentialStore
from tollhouse.identity.store.directory import Directory, new_id
from tollhouse.identity.store.key_store import KeyStore
from tollhouse.identity.store.loader import load_all
from tollhouse.identity.store.policy_store import PolicyStore
from tollhouse.identity.vault import Vault, VaultError

if TYPE_CHECKING:
    from tollhouse.audit.service import AuditService

DEFAULT_GRACE_S = 3600.0


class AdminServices:
    """Identity administration over one database."""

    def __init__(
        self,
        engine: AsyncEngine,
        sink: AdminEventSink,
        feed: ChangeFeed | None = None,
        vault: Vault | None = None,
        config_policies: Sequence[tuple[str, str]] = (),
        users_default: str = "allow",
        audit: AuditService | None = None,
    ) -> None:
        self.engine = engine
        self.audit = audit  # the audit trail's read side (None: audit is off)
        self.directory = Directory(engine)
        self.keys = KeyStore(engine)
        self.policies = PolicyStore(engine)
        self.credentials = CredentialStore(engine)
        self.sink = sink
        self._feed = feed
        self._vault = vault
        self._config_policies = tuple(config_policies)
        self._users_default = users_default

    async def _changed(
        self, actor: str, action: str, kind: str, ident: str, before: Any, after: Any, request_id: str | None
    ) -> None:
        if self._feed is not None:
            await self._feed.publish()
        self.sink.emit(event(action, actor, kind, ident, before, after, request_id))

    # organisations and teams

    async def create_org(
        self, actor: str, name: str, org_id: str | None = None, rid: str | None = None
    ) -> Org:
        org = await self.directory.create_org(name, org_id)
        await self._changed(actor, "org.create", "org", org.id, None, org_view(org), rid)
        return org

    async def create_team(
        self, actor: str, org_id: str, name: str, team_id: str | None = None, rid: str | None = None
    ) -> Team:
        team = await self.directory.create_team(org_id, name, team_id)
        await self._changed(actor, "team.create", "team", team.id, None, team_view(team), rid)
        return team

    async def delete_team(self, actor: str, team_id: str, rid: str | None = None) -> Team:
        team = await self.directory.delete_team(team_id)
        await self._changed(actor, "team.delete", "team", team_id, team_view(team), None, rid)
        return team

    # principals

    async def create_principal(
        self,
        actor: str,
        kind: RecordKind,
        org_id: str,
        name: str,
        *,
        principal_id: str | None = None,
        team_id: str | None = None,
        owner_id: str | None = None,
        roles: Sequence[str] = (),
        tags: Sequence[str] = (),
        can_delegate: bool = False,
        metadata: Mapping[str, str] | None = None,
        rid: str | None = None,
    ) -> PrincipalRecord:
        if kind == "agent" and owner_id is None:
            raise InvalidInput("an agent needs an owner (a user or service account)")
        record = PrincipalRecord(
            id=principal_id or new_id(kind),
            kind=kind,
            org_id=org_id,
            team_id=team_id,
            name=name,
            created_at=time.time(),
            owner_id=owner_id,
            roles=tuple(roles),
            tags=tuple(tags),
            can_delegate=can_delegate,
            metadata=dict(metadata or {}),
        )
        await self.directory.create_principal(record)
        await self._changed(actor, f"{kind}.create", kind, record.id, None, principal_view(record), rid)
        return record

    async def update_principal(
        self, actor: str, principal_id: str, changes: Mapping[str, Any], rid: str | None = None
    ) -> PrincipalRecord:
        before = await self.directory.get_principal(principal_id)
        after = await self.directory.update_principal(principal_id, changes)
        await self._changed(
            actor,
            f"{after.kind}.update",
            after.kind,
            principal_id,
            principal_view(before),
            principal_view(after),
            rid,
        )
        return after

    async def delete_principal(
        self, actor: str, principal_id: str, rid: str | None = None
    ) -> PrincipalRecord:
        before = await self.directory.delete_principal(principal_id)
        await self._changed(
            actor, f"{before.kind}.delete", before.kind, principal_id, principal_view(before), None, rid
        )
        return before

    # keys

    async def create_key(self, actor: str, request: KeyRequest, rid: str | None = None) -> IssuedKey:
        issued = issue_key(request)
        await self.keys.insert(issued.record)
        await self._changed(actor, "key.create", "key", issued.record.id, None, key_view(issued.record), rid)
        return issued

    async def revoke_key(self, actor: str, key_id: str, rid: str | None = None) -> KeyRecord:
        before = await self.keys.get(key_id)
        after = await self.keys.revoke(key_id, time.time())
        await self._changed(actor, "key.revoke", "key", key_id, key_view(before), key_view(after), rid)
        return after

    async def rotate_key(
        self, actor: str, key_id: str, grace_s: float = DEFAULT_GRACE_S, rid: str | None = None
    ) -> IssuedKey:
        """A new key with the old one's owner, scopes, tags and expiry; the old one lives ``grace_s`` more."""
        if grace_s < 0:
            raise InvalidInput("grace_s cannot be negative")
        old = await self.keys.get(key_id)
        request = KeyRequest(old.principal_id, old.name, old.scopes, old.expires_at, old.tags, old.metadata)
        issued = issue_key(request, rotated_from=key_id)
        await self.keys.rotate(key_id, issued.record, time.time() + grace_s)
        after_old = await self.keys.get(key_id)
        await self._changed(actor, "key.rotate", "key", key_id, key_view(old), key_view(after_old), rid)
        await self._changed(actor, "key.create", "key", issued.record.id, None, key_view(issued.record), rid)
        return issued

    async def update_key(
        self, actor: str, key_id: str, changes: Mapping[str, Any], rid: str | None = None
    ) -> KeyRecord:
        before = await self.keys.get(key_id)
        after = await self.keys.update(key_id, changes)
        await self._changed(actor, "key.update", "key", key_id, key_view(before), key_view(after), rid)
        return after

    # policies

    async def put_policy(
        self, actor: str, policy_id: str, text: str, description: str = "", rid: str | None = None
    ) -> PolicyRecord:
        check_policy_id(policy_id)
        if policy_id in {pid for pid, _ in self._config_policies}:
            raise InvalidInput(f"policy {policy_id!r} comes from the config file; change it there")
        parse_policies(policy_id, text)  # reject what Cedar cannot parse before storing it
        before, after = await self.policies.put(policy_id, text, description)
        await self._changed(
            actor,
            "policy.put",
            "policy",
            policy_id,
            policy_view(before) if before else None,
            policy_view(after),
            rid,
        )
        return after

    async def delete_policy(self, actor: str, policy_id: str, rid: str | None = None) -> PolicyRecord:
        before = await self.policies.delete(policy_id)
        await self._changed(actor, "policy.delete", "policy", policy_id, policy_view(before), None, rid)
        return before

    async def explain(
        self, principal: Principal | str, action: str, resource_type: str, resource_id: str
    ) -> tuple[Principal, Verdict]:
        """Evaluate one request against the stored and configured policies, uncached."""
        loaded = await load_all(self.engine, time.time())
        if isinstance(principal, str):
            record = next((p for p in loaded.principals if p.id == principal), None)
            if record is None:
                raise InvalidInput(f"no principal {principal!r}")
            principal = Principal(
                kind=record.kind, id=record.id, org_id=record.org_id, team_id=record.team_id,
                roles=record.roles, tags=record.tags,
            )  # fmt: skip
        policies = [*self._config_policies, *((p.id, p.text) for p in loaded.policies)]
        engine = PolicyEngine(policies, loaded.principals, loaded.teams, self._users_default, cache_ttl_s=0)
        return principal, engine.decide(principal, action, resource_type, resource_id)

    def config_policy_ids(self) -> tuple[str, ...]:
        return tuple(pid for pid, _ in self._config_policies)

    # credentials

    def _require_vault(self) -> Vault:
        if self._vault is None:
            raise InvalidInput("no vault master key configured (vault.master_keys)")
        return self._vault

    async def put_credential(
        self, actor: str, name: str, value: str, rid: str | None = None
    ) -> CredentialRecord:
        check_id(name, "credential")
        try:
            sealed = self._require_vault().seal(name, value)
        except VaultError as exc:
            raise InvalidInput(str(exc)) from None
        before, after = await self.credentials.put(sealed)
        await self._changed(
            actor,
            "credential.put",
            "credential",
            name,
            credential_view(before) if before else None,
            credential_view(after),
            rid,
        )
        return after

    async def delete_credential(self, actor: str, name: str, rid: str | None = None) -> CredentialRecord:
        before = await self.credentials.delete(name)
        await self._changed(
            actor, "credential.delete", "credential", name, credential_view(before), None, rid
        )
        return before

    async def reseal_credentials(self, actor: str, rid: str | None = None) -> int:
        """Re-encrypt every credential under the newest master key; returns how many moved."""
        vault = self._require_vault()
        moved = 0
        for sealed in await self.credentials.all_sealed():
            fresh = vault.reseal(sealed)
            if fresh is None:
                continue
            before, after = await self.credentials.put(fresh)
            moved += 1
            await self._changed(
                actor,
                "credential.reseal",
                "credential",
                sealed.name,
                credential_view(before) if before else None,
                credential_view(after),
                rid,
            )
        return moved
