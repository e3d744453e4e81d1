"""Admin endpoints for Cedar policies, provider credentials and admin events."""

from __future__ import annotations

from typing import Any

from tollhouse.admin.api import AdminCall
from tollhouse.admin.bodies import PolicyTest, PutCredential, PutPolicy
from tollhouse.admin.events import RecentEvents
from tollhouse.admin.views import credential_view, policy_view
from tollhouse.identity.cedar_engine import parse_entity
from tollhouse.identity.errors import InvalidInput

Reply = tuple[int, Any]


async def list_policies(call: AdminCall) -> Reply:
    stored = [policy_view(p) for p in await call.services.policies.list_all()]
    return 200, {"data": stored, "config_policy_ids": list(call.services.config_policy_ids())}


async def put_policy(call: AdminCall) -> Reply:
    body: PutPolicy = call.body
    record = await call.services.put_policy(
        call.actor.name, call.params["policy_id"], body.text, body.description, call.request_id
    )
    return 200, policy_view(record)


async def delete_policy(call: AdminCall) -> Reply:
    record = await call.services.delete_policy(call.actor.name, call.params["policy_id"], call.request_id)
    return 200, policy_view(record)


async def test_policy(call: AdminCall) -> Reply:
    body: PolicyTest = call.body
    resource_type, resource_id = parse_entity(body.resource)
    principal, verdict = await call.services.explain(body.principal, body.action, resource_type, resource_id)
    return 200, {
        "principal": f"{principal.kind}:{principal.id}",
        "action": body.action,
        "resource": f'{resource_type}::"{resource_id}"',
        "decision": "allow" if verdict.allowed else "deny",
        "reason": verdict.reason,
        "policies": list(verdict.policies),
    }


async def list_credentials(call: AdminCall) -> Reply:
    return 200, {"data": [credential_view(c) for c in await call.services.credentials.list_all()]}


async def put_credential(call: AdminCall) -> Reply:
    body: PutCredential = call.body
    record = await call.services.put_credential(
        call.actor.name, call.params["name"], body.value, call.request_id
    )
    return 200, credential_view(record)


async def delete_credential(call: AdminCall) -> Reply:
    record = await call.services.delete_credential(call.actor.name, call.params["name"], call.request_id)
    return 200, credential_view(record)


async def reseal_credentials(call: AdminCall) -> Reply:
    moved = await call.services.reseal_credentials(call.actor.name, call.request_id)
    return 200, {"resealed": moved}


async def list_events(call: AdminCall) -> Reply:
    raw = call.query.get("limit", "100")
    if not raw.isdigit() or not 1 <= int(raw) <= 1000:
        raise InvalidInput("limit must be a number from 1 to 1000")
    sink = call.services.sink
    events = sink.recent(int(raw)) if isinstance(sink, RecentEvents) else []
    return 200, {"data": [e.to_json() for e in events]}
