"""The admin API end to end: the newcomer's walk-through, team scoping, rotation, events, OpenAPI."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import CLIENT_KEY, RunningGateway, demo_gateway_config, free_port
from tests.support.identity import admin_request, call, identity_config, seed_admins
from tollhouse.admin.routes import ENDPOINTS

VAULT_KEY = "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="


@dataclass
class Admin:
    gw: RunningGateway
    port: int
    keys: dict[str, str]

    def req(self, method: str, path: str, body: Any = None, role: str = "admin") -> tuple[int, Any]:
        key = CLIENT_KEY if role == "master" else self.keys[role]
        status, _, data = admin_request(self.port, method, path, key, body)
        return status, data


def eventually(check: Callable[[], bool], timeout_s: float = 5.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.fixture(scope="module")
def admin(fake_openai: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Admin]:
    db_url = f"sqlite:///{Path(tmp_path_factory.mktemp('admin-api')) / 'admin.db'}"
    keys = asyncio.run(seed_admins(db_url))
    port = free_port()
    config = identity_config(
        fake_openai.base_url,
        db_url,
        admin={"enabled": True, "port": port},
        vault={"master_keys": {1: VAULT_KEY}},
    )
    with RunningGateway(config) as gw:
        yield Admin(gw, port, keys)


def test_newcomer_walkthrough(admin: Admin) -> None:
    status, team = admin.req(
        "POST", "/v1/teams", {"org_id": "acme", "name": "Research", "id": "research"}, "master"
    )
    assert status == 201 and team["id"] == "research"
    status, agent = admin.req(
        "POST",
        "/v1/principals",
        {"kind": "agent", "team_id": "research", "name": "Scout", "id": "scout", "owner_id": "root-admin"},
    )
    assert status == 201 and agent["org_id"] == "acme"
    status, created = admin.req(
        "POST", "/v1/keys", {"principal_id": "scout", "name": "scout-ci", "scopes": {"models": ["gpt-test"]}}
    )
    assert status == 201 and created["key"].startswith("th-")
    secret = created["key"]
    status, _ = admin.req(
        "PUT",
        "/v1/policies/scout-may-chat",
        {"text": 'permit(principal == Agent::"scout", action == Action::"invoke_model", resource);'},
    )
    assert status == 200

    eventually(lambda: call(admin.gw.port, secret, "gpt-test")[0] == 200)
    status, _, body = call(admin.gw.port, secret, "embed-test")
    assert status == 403 and "key-scope" in body["error"]["message"]

    status, shown = admin.req("GET", f"/v1/keys/{created['id']}")
    assert status == 200 and "key" not in shown
    assert shown["display"] == f"{secret[:7]}…{secret[-4:]}"
    status, listed = admin.req("GET", "/v1/keys")
    assert secret not in str(listed) and secret[7:-4] not in str(listed)


def test_policy_test_explains_the_decision(admin: Admin) -> None:
    admin.req(
        "POST",
        "/v1/principals",
        {"kind": "agent", "team_id": "ml", "name": "E", "id": "explainer", "owner_id": "root-admin"},
    )
    admin.req(
        "PUT",
        "/v1/policies/no-embed",
        {"text": 'forbid(principal, action, resource == Model::"embed-test");'},
    )
    status, verdict = admin.req(
        "POST",
        "/v1/policies/test",
        {"principal": "explainer", "action": "invoke_model", "resource": 'Model::"embed-test"'},
        "security-auditor",
    )
    assert status == 200
    assert verdict == {
        "principal": "agent:explainer",
        "action": "invoke_model",
        "resource": 'Model::"embed-test"',
        "decision": "deny",
        "reason": "forbid",
        "policies": ["no-embed"],
    }
    _, verdict = admin.req(
        "POST",
        "/v1/policies/test",
        {"principal": "explainer", "action": "invoke_model", "resource": "model:gpt-test"},
    )
    assert (verdict["decision"], verdict["reason"]) == ("deny", "no_permit")
    status, body = admin.req("PUT", "/v1/policies/broken", {"text": "permit(principal, action"})
    assert status == 400 and "not valid Cedar" in body["error"]["message"]


def test_team_admin_stays_inside_its_team(admin: Admin) -> None:
    admin.req(
        "POST",
        "/v1/principals",
        {"kind": "agent", "team_id": "other", "name": "X", "id": "outsider", "owner_id": "root-admin"},
    )
    status, body = admin.req("POST", "/v1/keys", {"principal_id": "outsider"}, "team-admin")
    assert status == 403 and body["error"]["message"] == "outside your team"
    status, _ = admin.req("GET", "/v1/principals/outsider", role="team-admin")
    assert status == 403
    status, body = admin.req(
        "POST", "/v1/principals", {"kind": "agent", "team_id": "other", "name": "Y"}, "team-admin"
    )
    assert status == 403
    status, body = admin.req("POST", "/v1/principals", {"kind": "user", "name": "Z"}, "team-admin")
    assert status == 403 and "agents only" in body["error"]["message"]
    status, body = admin.req(
        "POST", "/v1/principals", {"kind": "agent", "name": "Boss", "roles": ["admin"]}, "team-admin"
    )
    assert status == 403 and "only an admin may grant roles" in body["error"]["message"]
    status, mine = admin.req(
        "POST", "/v1/principals", {"kind": "agent", "name": "Helper", "id": "helper"}, "team-admin"
    )
    assert status == 201 and (mine["team_id"], mine["owner_id"]) == ("ml", "ml-lead")
    status, _ = admin.req("POST", "/v1/keys", {"principal_id": "helper"}, "team-admin")
    assert status == 201
    _, listed = admin.req("GET", "/v1/principals", role="team-admin")
    assert {p["team_id"] for p in listed["data"]} == {"ml"}
    _, teams = admin.req("GET", "/v1/teams", role="team-admin")
    assert [t["id"] for t in teams["data"]] == ["ml"]


def test_rotation_keeps_the_old_key_for_the_grace_period(admin: Admin) -> None:
    admin.req("POST", "/v1/principals", {"kind": "service", "team_id": "ml", "name": "Batch", "id": "batch"})
    _, first = admin.req("POST", "/v1/keys", {"principal_id": "batch"})
    eventually(lambda: call(admin.gw.port, first["key"])[0] == 200)
    status, second = admin.req("POST", f"/v1/keys/{first['id']}/rotate", {"grace_s": 60})
    assert status == 201 and second["rotated_from"] == first["id"]
    eventually(lambda: call(admin.gw.port, second["key"])[0] == 200)
    assert call(admin.gw.port, first["key"])[0] == 200  # still inside its grace period
    _, third = admin.req("POST", f"/v1/keys/{second['id']}/rotate", {"grace_s": 0})
    eventually(lambda: call(admin.gw.port, second["key"])[0] == 401)
    eventually(lambda: call(admin.gw.port, third["key"])[0] == 200)
    status, _ = admin.req("POST", f"/v1/keys/{third['id']}/revoke")
    assert status == 200
    eventually(lambda: call(admin.gw.port, third["key"])[0] == 401)


def test_every_change_is_an_admin_event_with_actor_and_before_after(admin: Admin) -> None:
    admin.req("POST", "/v1/principals", {"kind": "user", "team_id": "ml", "name": "Eve", "id": "eve"})
    _, key = admin.req("POST", "/v1/keys", {"principal_id": "eve", "tags": ["t1"]})
    admin.req("PATCH", f"/v1/keys/{key['id']}", {"tags": ["t2"]}, "master")
    admin.req("POST", f"/v1/keys/{key['id']}/revoke")
    status, events = admin.req("GET", "/v1/events?limit=10", role="security-auditor")
    assert status == 200
    mine = [e for e in events["data"] if e["target_id"] == key["id"]]
    assert [e["action"] for e in mine] == ["key.revoke", "key.update", "key.create"]
    revoke, update, create = mine
    assert (revoke["actor"], update["actor"], create["actor"]) == (
        "user:root-admin",
        "master:master-0",
        "user:root-admin",
    )
    assert create["before"] is None and create["after"]["tags"] == ["t1"]
    assert (update["before"]["tags"], update["after"]["tags"]) == (["t1"], ["t2"])
    assert revoke["before"]["revoked_at"] is None and revoke["after"]["revoked_at"] is not None
    assert key["key"] not in str(events)
    assert admin.req("GET", "/v1/events", role="viewer")[0] == 403


def test_credentials_show_only_their_last_four(admin: Admin) -> None:
    value = "sk-provider-credential-4242"
    status, stored = admin.req("PUT", "/v1/credentials/openai", {"value": value})
    assert status == 200 and stored["last4"] == "4242" and value not in str(stored)
    status, listed = admin.req("GET", "/v1/credentials", role="security-auditor")
    assert status == 200 and [c["name"] for c in listed["data"]] == ["openai"]
    assert value not in str(listed)
    status, _ = admin.req("POST", "/v1/credentials/reseal")
    assert status == 200


def test_cedar_can_forbid_an_admin_action(admin: Admin) -> None:
    assert admin.req("GET", "/v1/teams", role="viewer")[0] == 200
    admin.req(
        "PUT",
        "/v1/policies/watcher-blind",
        {"text": 'forbid(principal == User::"watcher", action == Action::"admin:read", resource);'},
    )
    eventually(lambda: admin.req("GET", "/v1/teams", role="viewer")[0] == 403)
    _, body = admin.req("GET", "/v1/teams", role="viewer")
    assert body["error"]["message"] == "denied by policy watcher-blind"
    admin.req("DELETE", "/v1/policies/watcher-blind")
    eventually(lambda: admin.req("GET", "/v1/teams", role="viewer")[0] == 200)


def test_openapi_lists_every_endpoint(admin: Admin) -> None:
    status, _, spec = admin_request(admin.port, "GET", "/openapi.json", None)
    assert status == 200 and spec["openapi"].startswith("3.1")
    for ep in ENDPOINTS:
        operation = spec["paths"][ep.path][ep.method.lower()]
        assert operation["x-tollhouse-action"] == ep.action
        if ep.body is not None:
            assert ep.body.__name__ in spec["components"]["schemas"]
    assert "CreateKey" in spec["components"]["schemas"]


def test_conflicts_and_unknowns_have_clear_statuses(admin: Admin) -> None:
    status, body = admin.req("POST", "/v1/teams", {"org_id": "acme", "name": "dup", "id": "ml"})
    assert status == 409 and body["error"]["code"] == "conflict"
    assert admin.req("GET", "/v1/keys/key_missing")[0] == 404
    status, body = admin.req("POST", "/v1/keys", {"principal_id": "eve", "surprise": 1})
    assert status == 400 and "surprise" in body["error"]["message"]
    assert admin_request(admin.port, "GET", "/v1/nothing-here", CLIENT_KEY)[0] == 404


def test_a_handler_failure_is_a_500_in_the_admin_envelope_and_the_server_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A database damaged under the running gateway (a table gone): the handler's insert raises.
    # The caller gets the admin API's JSON error, not uvicorn's bare 500 and a closed connection;
    # the log has the traceback; the next request is served.
    port = free_port()
    database = tmp_path / "gw.db"
    config = demo_gateway_config(
        CLIENT_KEY,
        database={"url": f"sqlite:///{database}"},
        identity={"enabled": True},
        admin={"enabled": True, "port": port},
    )
    with RunningGateway(config):
        with sqlite3.connect(database) as db:
            db.execute("DROP TABLE identity_orgs")
        status, headers, body = admin_request(
            port, "POST", "/v1/orgs", CLIENT_KEY, {"id": "acme", "name": "A"}
        )
        assert status == 500
        assert body == {
            "error": {
                "message": "internal error; see the gateway log",
                "type": "internal_error",
                "code": "internal_error",
            }
        }
        assert headers["x-request-id"] in caplog.text and "no such table: identity_orgs" in caplog.text
        assert CLIENT_KEY not in caplog.text
        assert admin_request(port, "GET", "/v1/teams", CLIENT_KEY)[0] == 200
