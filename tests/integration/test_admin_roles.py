"""The admin API's authorization matrix: every endpoint by every role, generated from the table.

What each role may do is restated here in HTTP terms, independently of ``admin.roles``:
admins do everything; security auditors read everything and test policies but change
nothing; approvers read the directory and keys and list and decide held tool calls; team
admins read the directory and keys and manage principals and keys; viewers read the
directory and keys only. Team scoping (a team admin outside its team) is tested in
``test_admin_api``.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import RunningGateway, free_port
from tests.support.identity import ROLE_USERS, admin_request, identity_config, seed_admins
from tollhouse.admin.api import Endpoint
from tollhouse.admin.routes import ENDPOINTS

DIRECTORY = ("/v1/orgs", "/v1/teams", "/v1/principals", "/v1/keys")


def _reads_directory(ep: Endpoint) -> bool:
    return ep.method == "GET" and ep.path.startswith(DIRECTORY)


def expected_allowed(role: str, ep: Endpoint) -> bool:
    if ep.action is None:  # whoami: any authenticated caller
        return True
    if role == "admin":
        return True
    if role == "security-auditor":
        return ep.method == "GET" or ep.path == "/v1/policies/test"
    if role == "team-admin":
        manages = ep.path.startswith(("/v1/principals", "/v1/keys"))
        return _reads_directory(ep) or manages
    if role == "viewer":
        return _reads_directory(ep)
    if role == "approver":
        return _reads_directory(ep) or ep.path.startswith(("/v1/approvals", "/v1/mcp/calls"))
    return False


def _sample_body(ep: Endpoint) -> Any:
    unique = uuid.uuid4().hex[:8]
    if ep.body is None:
        return None
    samples: dict[str, Any] = {
        "CreateOrg": {"name": "Org", "id": f"org-{unique}"},
        "CreateTeam": {"org_id": "acme", "name": "Team", "id": f"team-{unique}"},
        "CreatePrincipal": {"kind": "agent", "team_id": "ml", "name": "Bot", "id": f"bot-{unique}"},
        "UpdatePrincipal": {"name": "Renamed"},
        "CreateKey": {"principal_id": "missing-principal"},
        "UpdateKey": {"name": "renamed"},
        "RotateKey": {"grace_s": 10},
        "PutPolicy": {"text": 'permit(principal, action == Action::"invoke_model", resource);'},
        "PolicyTest": {"principal": "watcher", "action": "invoke_model", "resource": "model:gpt-test"},
        "PutCredential": {"value": "sk-matrix-credential-000"},
        "DefinitionDecision": {"target": "missing-server/missing-tool"},
        "Decision": {"note": "matrix"},
    }
    return samples[ep.body.__name__]


def _path(ep: Endpoint) -> str:
    # Team ids name the callers' own team; other ids name nothing, so an allowed write is a 404.
    values = {"team_id": "ml"}
    return re.sub(r"{(\w+)}", lambda m: values.get(m.group(1), f"missing-{m.group(1)}"), ep.path)


@pytest.fixture(scope="module")
def admin(
    fake_openai: FakeOpenAI, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[int, dict[str, str]]]:
    db_url = f"sqlite:///{Path(tmp_path_factory.mktemp('admin')) / 'admin.db'}"
    keys = asyncio.run(seed_admins(db_url))
    port = free_port()
    config = identity_config(
        fake_openai.base_url,
        db_url,
        admin={"enabled": True, "port": port},
        vault={"master_keys": {1: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}},
        auth_throttle={"max_failures": 10_000},  # this module fails authentication on purpose
    )
    with RunningGateway(config):
        yield port, keys


CASES = [(role, ep) for role in ROLE_USERS for ep in ENDPOINTS]


@pytest.mark.parametrize(
    ("role", "ep"), CASES, ids=[f"{role or 'no-role'}:{ep.method}:{ep.path}" for role, ep in CASES]
)
def test_matrix(admin: tuple[int, dict[str, str]], role: str, ep: Endpoint) -> None:
    port, keys = admin
    status, _, body = admin_request(port, ep.method, _path(ep), keys[role], _sample_body(ep))
    if expected_allowed(role, ep):
        assert status != 403, body
        assert status < 500, body
    else:
        assert status == 403, body
        assert body["error"]["message"] == f"your roles do not allow {ep.action}"


@pytest.mark.parametrize("ep", ENDPOINTS, ids=[f"{ep.method}:{ep.path}" for ep in ENDPOINTS])
def test_every_endpoint_needs_authentication(admin: tuple[int, dict[str, str]], ep: Endpoint) -> None:
    port, _ = admin
    status, _, body = admin_request(port, ep.method, _path(ep), None, _sample_body(ep))
    assert status == 401 and body["error"]["type"] == "authentication_error"
    status, _, _ = admin_request(
        port, ep.method, _path(ep), "th-not-a-real-key-0000000000000", _sample_body(ep)
    )
    assert status == 401


def test_roles_table_covers_every_role_in_the_matrix() -> None:
    from tollhouse.admin.roles import ROLE_ACTIONS

    assert set(ROLE_ACTIONS) == {r for r in ROLE_USERS if r}
