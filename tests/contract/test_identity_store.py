"""Identity repositories: the same behaviour on SQLite and PostgreSQL."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.identity.errors import Conflict, InvalidInput, UnknownRecord
from tollhouse.identity.keys import KeyRequest, issue_key, key_digest
from tollhouse.identity.records import PrincipalRecord, Scopes
from tollhouse.identity.store.changes import current_version
from tollhouse.identity.store.credential_store import CredentialStore, SealedCredential
from tollhouse.identity.store.directory import Directory
from tollhouse.identity.store.key_store import KeyStore
from tollhouse.identity.store.loader import load_all
from tollhouse.identity.store.policy_store import PolicyStore
from tollhouse.identity.store.tables import keys


def _agent(
    agent_id: str = "planner", team: str | None = "ml", owner: str | None = "alice"
) -> PrincipalRecord:
    return PrincipalRecord(
        id=agent_id,
        kind="agent",
        org_id="acme",
        team_id=team,
        name=agent_id.title(),
        created_at=time.time(),
        owner_id=owner,
        tags=("prod",),
        can_delegate=True,
        metadata={"purpose": "planning"},
    )


async def _tree(engine: AsyncEngine) -> Directory:
    directory = Directory(engine)
    await directory.create_org("Acme", "acme")
    await directory.create_team("acme", "Machine learning", "ml")
    alice = PrincipalRecord("alice", "user", "acme", "ml", "Alice", time.time(), roles=("team-admin",))
    await directory.create_principal(alice)
    await directory.create_principal(_agent())
    return directory


async def test_org_team_principal_round_trip(engine: AsyncEngine) -> None:
    directory = await _tree(engine)
    assert [o.id for o in await directory.list_orgs()] == ["acme"]
    assert (await directory.get_team("ml")).org_id == "acme"
    agent = await directory.get_principal("planner")
    assert (agent.kind, agent.owner_id, agent.team_id, agent.tags, agent.metadata) == (
        "agent",
        "alice",
        "ml",
        ("prod",),
        {"purpose": "planning"},
    )
    assert agent.can_delegate and not agent.disabled
    assert [p.id for p in await directory.list_principals(kind="agent")] == ["planner"]
    assert [p.id for p in await directory.list_principals(team_id="ml")] == ["alice", "planner"]
    changed = await directory.update_principal("alice", {"roles": ["admin"], "disabled": True})
    assert changed.roles == ("admin",) and changed.disabled


async def test_references_and_duplicates_are_checked(engine: AsyncEngine) -> None:
    directory = await _tree(engine)
    with pytest.raises(Conflict):
        await directory.create_team("acme", "again", "ml")
    with pytest.raises(UnknownRecord):
        await directory.create_team("nope", "x", "t2")
    with pytest.raises(UnknownRecord):
        await directory.create_principal(_agent("a2", owner="ghost"))
    with pytest.raises(UnknownRecord):
        await directory.create_principal(_agent("a3", team="ghost"))
    with pytest.raises(InvalidInput):
        await directory.create_principal(_agent("bad id"))
    with pytest.raises(Conflict):
        await directory.delete_team("ml")  # still has members
    with pytest.raises(Conflict):
        await directory.delete_principal("alice")  # still owns an agent
    with pytest.raises(InvalidInput):
        await directory.update_principal("alice", {"org_id": "other"})


async def test_keys_store_digests_never_secrets(engine: AsyncEngine) -> None:
    await _tree(engine)
    store = KeyStore(engine)
    issued = issue_key(
        KeyRequest("planner", "ci", Scopes(models=("gpt-a",)), tags=("ci",), metadata={"o": "x"})
    )
    await store.insert(issued.record)
    got = await store.get(issued.record.id)
    assert got == issued.record
    assert got.digest == key_digest(issued.secret).hex()
    assert got.scopes.allows_model("gpt-a") and not got.scopes.allows_model("gpt-b")
    async with engine.connect() as conn:
        rows = (await conn.execute(select(keys))).mappings().all()
    assert all(issued.secret not in str(dict(r)) for r in rows)
    with pytest.raises(UnknownRecord):
        await store.insert(issue_key(KeyRequest("ghost")).record)


async def test_revoke_rotate_update_and_last_use(engine: AsyncEngine) -> None:
    await _tree(engine)
    store = KeyStore(engine)
    first = issue_key(KeyRequest("planner", "first")).record
    await store.insert(first)
    second = issue_key(KeyRequest("planner", "second"), rotated_from=first.id).record
    await store.rotate(first.id, second, time.time() + 60)
    old = await store.get(first.id)
    assert old.expires_at is not None and old.revoked_at is None
    assert (await store.get(second.id)).rotated_from == first.id

    revoked = await store.revoke(first.id, 123.0)
    assert revoked.revoked_at == 123.0
    assert (await store.revoke(first.id, 456.0)).revoked_at == 123.0  # idempotent
    with pytest.raises(Conflict):
        await store.rotate(first.id, issue_key(KeyRequest("planner")).record, time.time())
    assert [k.id for k in await store.list_all(principal_id="planner")] == [second.id]
    assert {k.id for k in await store.list_all(team_id="ml", include_revoked=True)} == {first.id, second.id}

    updated = await store.update(
        second.id, {"name": "renamed", "tags": ["a"], "scopes": Scopes(surfaces=("chat",))}
    )
    assert (updated.name, updated.tags, updated.scopes.surfaces) == ("renamed", ("a",), ("chat",))
    version = await current_version(engine)
    await store.record_use({second.id: 1000.5})
    assert (await store.get(second.id)).last_used_at == 1000.5
    assert await current_version(engine) == version  # last use never triggers a reload


async def test_loader_returns_only_usable_keys_and_tracks_version(engine: AsyncEngine) -> None:
    await _tree(engine)
    store = KeyStore(engine)
    live = issue_key(KeyRequest("planner")).record
    expired = issue_key(KeyRequest("planner", expires_at=time.time() - 1)).record
    revoked = issue_key(KeyRequest("planner")).record
    for record in (live, expired, revoked):
        await store.insert(record)
    await store.revoke(revoked.id, time.time())
    before = await current_version(engine)
    await PolicyStore(engine).put("p1", "permit(principal, action, resource);")
    loaded = await load_all(engine, time.time())
    assert [k.id for k in loaded.keys] == [live.id]
    assert loaded.version == before + 1
    assert [p.id for p in loaded.policies] == ["p1"]
    assert {p.id for p in loaded.principals} == {"alice", "planner"}


async def test_policies_put_replace_delete(engine: AsyncEngine) -> None:
    store = PolicyStore(engine)
    before, after = await store.put("allow-ml", "permit(principal, action, resource);", "all")
    assert before is None and after.text.startswith("permit")
    before, after = await store.put("allow-ml", "forbid(principal, action, resource);")
    assert before is not None and before.text.startswith("permit") and after.text.startswith("forbid")
    assert after.created_at == before.created_at
    await store.delete("allow-ml")
    with pytest.raises(UnknownRecord):
        await store.get("allow-ml")


async def test_credentials_keep_only_sealed_bytes(engine: AsyncEngine) -> None:
    store = CredentialStore(engine)
    sealed = SealedCredential("openai", b"n" * 12, b"\x00\x01cipher", 1, "abcd")
    before, after = await store.put(sealed)
    assert before is None and (after.name, after.last4, after.key_version) == ("openai", "abcd", 1)
    assert await store.sealed("openai") == sealed
    await store.put(SealedCredential("openai", b"m" * 12, b"other", 2, "wxyz"))
    assert [(c.name, c.key_version) for c in await store.list_all()] == [("openai", 2)]
    assert len(await store.all_sealed()) == 1
    await store.delete("openai")
    with pytest.raises(UnknownRecord):
        await store.get("openai")
