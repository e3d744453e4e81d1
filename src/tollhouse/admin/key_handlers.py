"""Admin endpoints for virtual keys: the secret appears once, in the create/rotate answer."""

from __future__ import annotations

import time
from typing import Any

from tollhouse.admin.api import AdminCall
from tollhouse.admin.bodies import CreateKey, RotateKey, UpdateKey
from tollhouse.admin.views import key_view
from tollhouse.identity.keys import IssuedKey, KeyRequest
from tollhouse.identity.records import KeyRecord

Reply = tuple[int, Any]


async def _owner_team(call: AdminCall, principal_id: str) -> str | None:
    return (await call.services.directory.get_principal(principal_id)).team_id


async def _visible_key(call: AdminCall) -> KeyRecord:
    record = await call.services.keys.get(call.params["key_id"])
    if call.team_scope() is not None:
        call.require_team(await _owner_team(call, record.principal_id))
    return record


def _issued(issued: IssuedKey) -> dict[str, Any]:
    return {**key_view(issued.record), "key": issued.secret}


async def list_keys(call: AdminCall) -> Reply:
    team = call.team_scope() or call.query.get("team_id")
    revoked = call.query.get("include_revoked", "").lower() in ("1", "true", "yes")
    records = await call.services.keys.list_all(call.query.get("principal_id"), team, revoked)
    return 200, {"data": [key_view(k) for k in records]}


async def get_key(call: AdminCall) -> Reply:
    return 200, key_view(await _visible_key(call))


async def create_key(call: AdminCall) -> Reply:
    body: CreateKey = call.body
    team = await _owner_team(call, body.principal_id)
    call.require_team(team)
    expires = time.time() + body.expires_in_s if body.expires_in_s else None
    request = KeyRequest(
        body.principal_id, body.name, body.scopes.scopes(), expires, tuple(body.tags), body.metadata
    )
    issued = await call.services.create_key(call.actor.name, request, call.request_id)
    return 201, _issued(issued)


async def update_key(call: AdminCall) -> Reply:
    body: UpdateKey = call.body
    record = await _visible_key(call)
    changes: dict[str, Any] = body.model_dump(exclude_none=True, exclude={"scopes"})
    if body.scopes is not None:
        changes["scopes"] = body.scopes.scopes()
    updated = await call.services.update_key(call.actor.name, record.id, changes, call.request_id)
    return 200, key_view(updated)


async def revoke_key(call: AdminCall) -> Reply:
    record = await _visible_key(call)
    return 200, key_view(await call.services.revoke_key(call.actor.name, record.id, call.request_id))


async def rotate_key(call: AdminCall) -> Reply:
    body: RotateKey = call.body
    record = await _visible_key(call)
    issued = await call.services.rotate_key(call.actor.name, record.id, body.grace_s, call.request_id)
    return 201, _issued(issued)
