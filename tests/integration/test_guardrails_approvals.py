"""Tool calls held for approval on the OpenAI chat surface, through the real app with the
official OpenAI SDK: held → approved (admin API or CLI) → the retry passes; denied → the
retry fails; nobody decides in time → denied. JSON answers and streams alike."""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml
from typer.testing import CliRunner

from tests.fakes.scripted_openai import Script, ScriptedOpenAI
from tests.support.gateway import CLIENT_KEY, RunningGateway, free_port
from tests.support.identity import admin_request
from tollhouse.cli.main import app

DANGEROUS = ("shell", ['{"cmd": "rm -rf', ' /srv/data", "force": true}'])
ARGUMENTS = '{"cmd": "rm -rf /srv/data", "force": true}'


class Env:
    def __init__(
        self, gateway: RunningGateway, admin_port: int, scripted: ScriptedOpenAI, path: Path
    ) -> None:
        self.gateway = gateway
        self.admin_port = admin_port
        self.scripted = scripted
        self.config_path = path

    def sdk(self) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.gateway.base_url, api_key=CLIENT_KEY, max_retries=0)

    def admin(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, _, data = admin_request(self.admin_port, method, path, CLIENT_KEY, body)
        return status, data

    def cli(self, *args: str) -> str:
        result = CliRunner().invoke(app, [*args, "--config", str(self.config_path)])
        assert result.exit_code == 0, result.output
        return result.output


def _config(scripted_url: str, folder: Path, admin_port: int, timeout_s: float) -> dict[str, Any]:
    policy = {
        "name": "tools",
        "stages": ["tool_args"],
        "guards": [
            {"type": "keywords", "id": "dangerous", "patterns": [r"rm -rf"], "action": "require_approval"},
            {"type": "secrets"},
        ],
    }
    return {
        "auth": {"master_keys": [CLIENT_KEY]},
        "database": {"url": f"sqlite:///{folder / 'gw.db'}"},
        "identity": {"enabled": True, "last_used_flush_s": 3600},
        "admin": {"enabled": True, "port": admin_port},
        "providers": {"scripted": {"kind": "openai_compatible", "base_url": scripted_url + "/v1"}},
        "models": [{"alias": "agent", "target": "scripted/gpt-4o-mini"}],
        "guardrails": {
            "policies": [policy],
            "approvals": {"timeout_s": timeout_s, "valid_s": 600, "poll_s": 0.05},
        },
    }


def _env(scripted: ScriptedOpenAI, folder: Path, timeout_s: float) -> Iterator[Env]:
    port = free_port()
    config = _config(scripted.base_url, folder, port, timeout_s)
    path = folder / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    with RunningGateway(config) as gateway:
        yield Env(gateway, port, scripted, path)


@pytest.fixture(scope="module")
def scripted() -> Iterator[ScriptedOpenAI]:
    with ScriptedOpenAI() as server:
        yield server


@pytest.fixture(scope="module")
def env(scripted: ScriptedOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    yield from _env(scripted, tmp_path_factory.mktemp("approvals"), timeout_s=60)


@pytest.fixture(scope="module")
def hasty(scripted: ScriptedOpenAI, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    """Approvals that time out after half a second."""
    yield from _env(scripted, tmp_path_factory.mktemp("approvals-hasty"), timeout_s=0.5)


def _messages() -> list[Any]:
    """A conversation of its own for each test (a retry is the same conversation)."""
    return [{"role": "user", "content": f"tidy the data volume ({uuid.uuid4().hex[:8]})"}]


def _ask(env: Env, messages: list[Any], stream: bool) -> list[tuple[str, str]]:
    """The tool calls the caller receives: (name, arguments)."""
    env.scripted.script = Script(pieces=[], tool_calls=[DANGEROUS])
    with env.sdk() as client:
        if not stream:
            answer = client.chat.completions.create(model="agent", messages=messages)
            return [
                (c.function.name, c.function.arguments) for c in answer.choices[0].message.tool_calls or ()
            ]
        calls: dict[int, list[str]] = {}
        for chunk in client.chat.completions.create(model="agent", messages=messages, stream=True):
            for choice in chunk.choices:
                for delta in choice.delta.tool_calls or ():
                    name = delta.function.name if delta.function else None
                    entry = calls.setdefault(delta.index, [name or "", ""])
                    entry[1] += (delta.function.arguments if delta.function else None) or ""
        return [(name, arguments) for name, arguments in calls.values()]


def _refused(env: Env, messages: list[Any], stream: bool) -> dict[str, Any]:
    """The error object of a refused call (a 403 before any byte, or a stream's error event)."""
    with pytest.raises(openai.APIError) as caught:
        _ask(env, messages, stream)
    if not stream:
        assert isinstance(caught.value, openai.PermissionDeniedError)
        body = caught.value.body
    else:
        body = caught.value.body
    assert isinstance(body, dict)
    return body


def _passes_within(
    env: Env, messages: list[Any], stream: bool, seconds: float = 5.0
) -> list[tuple[str, str]]:
    """A streamed retry sees a decision within ``poll_s``: retry until it does."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            return _ask(env, messages, stream)
        except openai.APIError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_held_call_passes_once_approved(env: Env, stream: bool) -> None:
    messages = _messages()
    error = _refused(env, messages, stream)
    assert error["code"] == "approval_required"
    approval_id = error["approval_id"]
    assert approval_id.startswith("apr_") and approval_id in error["message"]
    # A retry before anyone decided is held under the same id: no second request for a human.
    assert _refused(env, messages, stream)["approval_id"] == approval_id

    status, listed = env.admin("GET", "/v1/approvals?source=llm")
    assert status == 200
    row = next(r for r in listed["data"] if r["id"] == approval_id)
    assert (row["status"], row["source"], row["tool"], row["server"]) == ("pending", "chat", "shell", "agent")
    assert row["args_preview"] == '{"cmd":"rm -rf /srv/data","force":true}'
    assert row["reason"] == "guard dangerous: pattern" and row["principal"] == "master:master-0"

    status, decided = env.admin("POST", f"/v1/approvals/{approval_id}/approve", {"note": "planned cleanup"})
    assert status == 200 and decided["status"] == "approved" and decided["decided_by"].startswith("master:")
    assert _passes_within(env, messages, stream) == [("shell", ARGUMENTS)]
    # The approval covers this call in this conversation only.
    assert _refused(env, _messages(), stream)["approval_id"] != approval_id

    status, events = env.admin("GET", "/v1/events")
    assert status == 200
    assert any(e["action"] == "approval.approve" and e["target_id"] == approval_id for e in events["data"])


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_denied_call_stays_denied(env: Env, stream: bool) -> None:
    messages = _messages()
    approval_id = _refused(env, messages, stream)["approval_id"]
    status, decided = env.admin("POST", f"/v1/approvals/{approval_id}/deny", {"note": "not on prod"})
    assert status == 200 and decided["status"] == "denied"
    deadline = time.monotonic() + 5
    while True:
        error = _refused(env, messages, stream)
        if error["code"] == "approval_denied" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert error["code"] == "approval_denied" and error["approval_id"] == approval_id
    assert "(denied)" in error["message"]
    # A decision is final: it cannot be turned around.
    assert env.admin("POST", f"/v1/approvals/{approval_id}/approve", {})[0] == 404


def test_approvers_decide_from_the_cli(env: Env) -> None:
    messages = _messages()
    approval_id = _refused(env, messages, stream=False)["approval_id"]
    listed = env.cli("approvals", "list", "--json", "--source", "llm")
    assert approval_id in listed and '"tool": "shell"' in listed
    assert "approved" in env.cli("approvals", "approve", approval_id, "--note", "ok")
    assert _ask(env, messages, stream=False) == [("shell", ARGUMENTS)]
    assert '"status": "approved"' in env.cli("approvals", "show", approval_id)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_an_undecided_call_times_out_denied(hasty: Env, stream: bool) -> None:
    messages = _messages()
    approval_id = _refused(hasty, messages, stream)["approval_id"]
    time.sleep(0.7)
    error = _refused(hasty, messages, stream)
    assert error["code"] == "approval_denied" and error["approval_id"] == approval_id
    assert "(expired)" in error["message"]
    status, listed = hasty.admin("GET", "/v1/approvals?status=expired")
    assert status == 200 and approval_id in {r["id"] for r in listed["data"]}
    assert hasty.admin("POST", f"/v1/approvals/{approval_id}/approve", {})[0] == 404


def test_a_harmless_call_is_not_held(env: Env) -> None:
    env.scripted.script = Script(pieces=[], tool_calls=[("shell", ['{"cmd": "ls"}'])])
    with env.sdk() as client:
        answer = client.chat.completions.create(model="agent", messages=_messages())
    calls = answer.choices[0].message.tool_calls or []
    assert [(c.function.name, c.function.arguments) for c in calls] == [("shell", '{"cmd": "ls"}')]


def test_the_anthropic_surface_holds_tool_use_too(env: Env) -> None:
    import anthropic

    env.scripted.script = Script(pieces=[], tool_calls=[DANGEROUS])
    messages: list[Any] = _messages()
    with anthropic.Anthropic(base_url=env.gateway.url, api_key=CLIENT_KEY, max_retries=0) as client:
        with pytest.raises(anthropic.PermissionDeniedError) as caught:
            client.messages.create(model="agent", max_tokens=100, messages=messages)
        error = caught.value.body["error"]  # type: ignore[index]
        approval_id = error["approval_id"]
        assert approval_id in error["message"]
        status, row = env.admin("GET", f"/v1/approvals/{approval_id}")
        assert status == 200 and (row["source"], row["tool"]) == ("messages", "shell")
        assert env.admin("POST", f"/v1/approvals/{approval_id}/approve", {})[0] == 200
        answer = client.messages.create(model="agent", max_tokens=100, messages=messages)
    uses = [(b.name, b.input) for b in answer.content if b.type == "tool_use"]
    assert uses == [("shell", {"cmd": "rm -rf /srv/data", "force": True})]


def test_the_responses_surface_holds_function_calls_too(env: Env) -> None:
    env.scripted.script = Script(pieces=[], tool_calls=[DANGEROUS])
    prompt = f"tidy the data volume ({uuid.uuid4().hex[:8]})"
    with env.sdk() as client:
        with pytest.raises(openai.PermissionDeniedError) as caught:
            client.responses.create(model="agent", input=prompt)
        body = caught.value.body
        assert isinstance(body, dict) and body["code"] == "approval_required"
        approval_id = body["approval_id"]
        assert env.admin("GET", f"/v1/approvals/{approval_id}")[1]["source"] == "responses"
        assert env.admin("POST", f"/v1/approvals/{approval_id}/approve", {})[0] == 200
        answer = client.responses.create(model="agent", input=prompt)
    calls = [(item.name, item.arguments) for item in answer.output if item.type == "function_call"]
    assert calls == [("shell", ARGUMENTS)]
