"""Identity test helpers: gateway configs with virtual keys, seeding the directory, counting queries."""

from __future__ import annotations

import http.client
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.support.gateway import upstream_config
from tollhouse.admin.events import RecentEvents
from tollhouse.admin.services import AdminServices
from tollhouse.identity.keys import KeyRequest
from tollhouse.identity.records import Scopes
from tollhouse.pipeline.context import RequestContext
from tollhouse.storage.engine import create_engine
from tollhouse.storage.migrate import upgrade

HELLO = [{"role": "user", "content": "hello"}]


def identity_config(upstream_url: str, db_url: str, **sections: Any) -> dict[str, Any]:
    """The shared fake-upstream config with virtual keys from ``db_url``; ``sections`` override."""
    config = upstream_config(upstream_url)
    config["database"] = {"url": db_url}
    config["identity"] = {"enabled": True, "refresh_interval_s": 0.2, "last_used_flush_s": 3600}
    config.update(sections)
    return config


@dataclass
class Seeded:
    """Keys created by ``seed``, by name (their secrets, as shown once)."""

    keys: dict[str, str] = field(default_factory=dict)
    key_ids: dict[str, str] = field(default_factory=dict)


async def seed(db_url: str) -> Seeded:
    """An org, a team, a user (alice, may be delegated for) and an agent (planner) with keys.

    ``scoped``: alice's key limited to model gpt-test; ``alice``: unrestricted user key;
    ``agent``: planner's unrestricted key (planner may act on behalf of users).
    """
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        services = AdminServices(engine, RecentEvents())
        await services.create_org("test", "Acme", "acme")
        await services.create_team("test", "acme", "ML", "ml")
        await services.create_principal("test", "user", "acme", "Alice", principal_id="alice", team_id="ml")
        await services.create_principal(
            "test", "agent", "acme", "Planner", principal_id="planner", team_id="ml", owner_id="alice",
            can_delegate=True,
        )  # fmt: skip
        seeded = Seeded()
        for name, request in (
            ("scoped", KeyRequest("alice", "scoped", Scopes(models=("gpt-test",)))),
            ("alice", KeyRequest("alice", "alice")),
            ("agent", KeyRequest("planner", "agent")),
        ):
            issued = await services.create_key("test", request)
            seeded.keys[name] = issued.secret
            seeded.key_ids[name] = issued.record.id
        return seeded
    finally:
        await engine.dispose()


@contextmanager
def count_queries(engine: AsyncEngine) -> Iterator[list[str]]:
    """Every SQL statement ``engine`` executes inside the block."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)


class Recorder:
    """An observer that keeps what each finished request carried (principal, decisions)."""

    def __init__(self) -> None:
        self.seen: list[RequestContext] = []

    def observe(self, ctx: RequestContext) -> None:
        self.seen.append(ctx)

    async def start(self) -> None:
        return None

    async def stop(self) -> None:
        return None


def call(
    port: int, key: str | None, model: str = "gpt-test", headers: dict[str, str] | None = None, path: str = ""
) -> tuple[int, dict[str, str], Any]:
    """One chat completion (or a GET of ``path``) with ``key``; status, headers and JSON body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    hdrs = {"content-type": "application/json", **(headers or {})}
    if key is not None:
        hdrs["authorization"] = f"Bearer {key}"
    if path:
        conn.request("GET", path, headers=hdrs)
    else:
        body = json.dumps({"model": model, "messages": HELLO}).encode()
        conn.request("POST", "/v1/chat/completions", body=body, headers=hdrs)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return (
        response.status,
        {k.lower(): v for k, v in response.getheaders()},
        json.loads(data) if data else None,
    )


ROLE_USERS = {
    "admin": "root-admin",
    "security-auditor": "auditor",
    "approver": "decider",
    "team-admin": "ml-lead",
    "viewer": "watcher",
    "": "nobody",  # a user with no admin role at all
}


async def seed_admins(db_url: str) -> dict[str, str]:
    """One user per admin role (all in team ml of org acme, created if missing); role → key."""
    engine = create_engine(db_url)
    try:
        await upgrade(engine)
        services = AdminServices(engine, RecentEvents())
        if not await services.directory.list_orgs():
            await services.create_org("test", "Acme", "acme")
            await services.create_team("test", "acme", "ML", "ml")
        await services.create_team("test", "acme", "Other", "other")
        keys: dict[str, str] = {}
        for role, user in ROLE_USERS.items():
            roles = [role] if role else []
            await services.create_principal(
                "test", "user", "acme", user, principal_id=user, team_id="ml", roles=roles
            )
            keys[role] = (await services.create_key("test", KeyRequest(user, f"{user}-key"))).secret
        return keys
    finally:
        await engine.dispose()


def admin_request(
    port: int, method: str, path: str, key: str | None, body: Any = None
) -> tuple[int, dict[str, str], Any]:
    """One admin API call; status, headers and JSON body."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    headers = {"content-type": "application/json"}
    if key is not None:
        headers["authorization"] = f"Bearer {key}"
    conn.request(method, path, body=json.dumps(body).encode() if body is not None else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return (
        response.status,
        {k.lower(): v for k, v in response.getheaders()},
        json.loads(data) if data else None,
    )
