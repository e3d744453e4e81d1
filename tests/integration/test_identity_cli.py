"""`tollhouse teams | agents | keys | policy` against a real database, then the key on the gateway."""

from __future__ import annotations

import re
import time
from pathlib import Path

import yaml
from typer.testing import CliRunner

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import RunningGateway
from tests.support.identity import call, identity_config
from tollhouse.cli.main import app

runner = CliRunner()


def _run(config: Path, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, [*args, "--config", str(config)])
    return result.exit_code, result.output


def test_cli_walkthrough(fake_openai: FakeOpenAI, tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    settings = identity_config(fake_openai.base_url, f"sqlite:///{tmp_path / 'cli.db'}")
    config.write_text(yaml.safe_dump(settings))

    assert _run(config, "teams", "create", "ml", "--org", "acme")[0] == 0
    assert _run(config, "teams", "add-user", "alice", "--team", "ml")[0] == 0
    assert _run(config, "agents", "create", "planner", "--team", "ml", "--owner", "alice")[0] == 0
    code, output = _run(config, "keys", "create", "--principal", "planner", "--model", "gpt-test")
    assert code == 0
    secret = re.search(r"^(th-\S+)$", output, re.MULTILINE)
    assert secret is not None
    key = secret.group(1)
    key_id = re.search(r"created key (key_\w+)", output)
    assert key_id is not None

    code, output = _run(
        config,
        "policy",
        "test",
        "--principal",
        "planner",
        "--action",
        "invoke_model",
        "--resource",
        "model:gpt-test",
    )
    assert code == 2 and "DENY" in output and "agents are denied by default" in output
    permit = 'permit(principal == Agent::"planner", action == Action::"invoke_model", resource == Model::"gpt-test");'
    assert _run(config, "policy", "put", "planner-chat", "--text", permit)[0] == 0
    code, output = _run(
        config,
        "policy",
        "test",
        "--principal",
        "planner",
        "--action",
        "invoke_model",
        "--resource",
        'Model::"gpt-test"',
    )
    assert code == 0 and "ALLOW" in output and "planner-chat" in output

    code, output = _run(config, "keys", "list")
    assert code == 0 and key_id.group(1) in output and key not in output

    with RunningGateway(settings) as gw:
        assert call(gw.port, key, "gpt-test")[0] == 200
        status, _, body = call(gw.port, key, "embed-test")
        assert status == 403 and "key-scope" in body["error"]["message"]
        assert _run(config, "keys", "revoke", key_id.group(1))[0] == 0
        deadline = time.monotonic() + 5
        while call(gw.port, key, "gpt-test")[0] != 401:
            assert time.monotonic() < deadline, "the revocation did not reach the gateway"
            time.sleep(0.05)

    code, output = _run(config, "keys", "revoke", "key_missing")
    assert code == 1 and "no key 'key_missing'" in output


def test_credentials_commands_never_print_the_value(tmp_path: Path) -> None:
    config = tmp_path / "gw.yaml"
    settings = identity_config("http://127.0.0.1:9/v1", f"sqlite:///{tmp_path / 'creds.db'}")
    settings["vault"] = {"master_keys": {1: "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="}}
    config.write_text(yaml.safe_dump(settings))
    value = "sk-provider-value-from-stdin-9z8y"

    result = runner.invoke(app, ["credentials", "put", "prod", "--config", str(config)], input=value + "\n")
    assert result.exit_code == 0 and "…9z8y" in result.output and value not in result.output
    code, output = _run(config, "credentials", "list")
    assert code == 0 and "prod" in output and "9z8y" in output and value not in output
    empty = runner.invoke(app, ["credentials", "put", "other", "--config", str(config)], input="\n")
    assert empty.exit_code == 1 and "no value in standard input" in empty.output
    code, output = _run(config, "credentials", "delete", "prod")
    assert code == 0 and "deleted" in output
    code, output = _run(config, "credentials", "delete", "prod")
    assert code == 1 and "no credential 'prod'" in output
