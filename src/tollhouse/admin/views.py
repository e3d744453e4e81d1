"""Records as the admin API and admin events show them: never a secret, digest or ciphertext."""

from __future__ import annotations

from typing import Any

from tollhouse.identity.records import CredentialRecord, KeyRecord, Org, PolicyRecord, PrincipalRecord, Team


def org_view(org: Org) -> dict[str, Any]:
    return {"id": org.id, "name": org.name, "created_at": org.created_at}


def team_view(team: Team) -> dict[str, Any]:
    return {"id": team.id, "org_id": team.org_id, "name": team.name, "created_at": team.created_at}


def principal_view(p: PrincipalRecord) -> dict[str, Any]:
    return {
        "id": p.id,
        "kind": p.kind,
        "org_id": p.org_id,
        "team_id": p.team_id,
        "name": p.name,
        "owner_id": p.owner_id,
        "roles": list(p.roles),
        "tags": list(p.tags),
        "can_delegate": p.can_delegate,
        "disabled": p.disabled,
        "metadata": dict(p.metadata),
        "created_at": p.created_at,
    }


def key_view(k: KeyRecord) -> dict[str, Any]:
    return {
        "id": k.id,
        "principal_id": k.principal_id,
        "name": k.name,
        "display": f"{k.prefix}…{k.last4}",
        "created_at": k.created_at,
        "expires_at": k.expires_at,
        "revoked_at": k.revoked_at,
        "rotated_from": k.rotated_from,
        "last_used_at": k.last_used_at,
        "scopes": k.scopes.to_json(),
        "tags": list(k.tags),
        "metadata": dict(k.metadata),
    }


def policy_view(p: PolicyRecord) -> dict[str, Any]:
    return {
        "id": p.id,
        "text": p.text,
        "description": p.description,
        "created_at": p.created_at,
        "updated_at": p.updated_at,
    }


def credential_view(c: CredentialRecord) -> dict[str, Any]:
    return {
        "name": c.name,
        "last4": c.last4,
        "key_version": c.key_version,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    }
