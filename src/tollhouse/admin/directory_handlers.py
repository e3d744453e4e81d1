"""Admin endpoints for organisations, teams and principals."""

from __future__ import annotations

from typing import Any

from tollhouse.admin.api import AdminCall
from tollhouse.admin.bodies import CreateOrg, CreatePrincipal, CreateTeam, UpdatePrincipal
from tollhouse.admin.views import org_view, principal_view, team_view
from tollhouse.identity.config import ROLES
from tollhouse.identity.errors import InvalidInput, NotPermitted
from tollhouse.identity.records import RECORD_KINDS, PrincipalRecord

Reply = tuple[int, Any]


async def whoami(call: AdminCall) -> Reply:
    p = call.actor.principal
    return 200, {"kind": p.kind, "id": p.id, "team_id": p.team_id, "roles": sorted(call.actor.roles)}


async def list_orgs(call: AdminCall) -> Reply:
    orgs = await call.services.directory.list_orgs()
    return 200, {"data": [org_view(o) for o in orgs]}


async def create_org(call: AdminCall) -> Reply:
    body: CreateOrg = call.body
    org = await call.services.create_org(call.actor.name, body.name, body.id, call.request_id)
    return 201, org_view(org)


async def list_teams(call: AdminCall) -> Reply:
    scope = call.team_scope()
    teams = await call.services.directory.list_teams(call.query.get("org_id"))
    return 200, {"data": [team_view(t) for t in teams if scope is None or t.id == scope]}


async def get_team(call: AdminCall) -> Reply:
    call.require_team(call.params["team_id"])
    return 200, team_view(await call.services.directory.get_team(call.params["team_id"]))


async def create_team(call: AdminCall) -> Reply:
    body: CreateTeam = call.body
    team = await call.services.create_team(call.actor.name, body.org_id, body.name, body.id, call.request_id)
    return 201, team_view(team)


async def delete_team(call: AdminCall) -> Reply:
    team = await call.services.delete_team(call.actor.name, call.params["team_id"], call.request_id)
    return 200, team_view(team)


async def list_principals(call: AdminCall) -> Reply:
    asked = call.query.get("kind")
    kind = next((k for k in RECORD_KINDS if k == asked), None)
    if asked is not None and kind is None:
        raise InvalidInput(f"kind must be one of {', '.join(RECORD_KINDS)}")
    team = call.team_scope() or call.query.get("team_id")
    records = await call.services.directory.list_principals(kind, team)
    return 200, {"data": [principal_view(p) for p in records]}


async def _visible(call: AdminCall, principal_id: str) -> PrincipalRecord:
    record = await call.services.directory.get_principal(principal_id)
    call.require_team(record.team_id)
    return record


async def get_principal(call: AdminCall) -> Reply:
    return 200, principal_view(await _visible(call, call.params["principal_id"]))


def _check_grant(call: AdminCall, roles: list[str] | None) -> None:
    if not roles:
        return
    unknown = sorted(set(roles) - set(ROLES))
    if unknown:
        raise InvalidInput(f"unknown roles: {', '.join(unknown)}; known: {', '.join(ROLES)}")
    if not call.actor.is_admin:
        raise NotPermitted("only an admin may grant roles")


async def create_principal(call: AdminCall) -> Reply:
    body: CreatePrincipal = call.body
    _check_grant(call, body.roles)
    scope = call.team_scope()
    team_id = body.team_id if scope is None else (body.team_id or scope)
    if scope is not None:
        if body.kind != "agent":
            raise NotPermitted("a team admin creates agents only")
        call.require_team(team_id)
        if body.owner_id is not None and body.owner_id != call.actor.principal.id:
            await _visible(call, body.owner_id)
    org_id = body.org_id
    if org_id is None:
        if team_id is None:
            raise InvalidInput("give org_id or team_id")
        org_id = (await call.services.directory.get_team(team_id)).org_id
    owner = body.owner_id or (call.actor.principal.id if scope is not None else None)
    record = await call.services.create_principal(
        call.actor.name,
        body.kind,
        org_id,
        body.name,
        principal_id=body.id,
        team_id=team_id,
        owner_id=owner,
        roles=body.roles,
        tags=body.tags,
        can_delegate=body.can_delegate,
        metadata=body.metadata,
        rid=call.request_id,
    )
    return 201, principal_view(record)


async def update_principal(call: AdminCall) -> Reply:
    body: UpdatePrincipal = call.body
    record = await _visible(call, call.params["principal_id"])
    if call.team_scope() is not None and record.kind != "agent":
        raise NotPermitted("a team admin changes agents only")
    _check_grant(call, body.roles)
    changes = body.model_dump(exclude_none=True)
    updated = await call.services.update_principal(call.actor.name, record.id, changes, call.request_id)
    return 200, principal_view(updated)


async def delete_principal(call: AdminCall) -> Reply:
    record = await _visible(call, call.params["principal_id"])
    if call.team_scope() is not None and record.kind != "agent":
        raise NotPermitted("a team admin removes agents only")
    removed = await call.services.delete_principal(call.actor.name, record.id, call.request_id)
    return 200, principal_view(removed)
