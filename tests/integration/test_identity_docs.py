"""docs/identity.md run as written: its YAML, its `tollhouse` commands and its `curl` calls, with
the documented answers checked — the walk-through (team, scoped agent key, Cedar policy, the
denial outside the scope) and the provider-key vault (store, serve, rotate)."""

from __future__ import annotations

import http.client
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tests.fakes.openai_upstream import FakeOpenAI
from tests.support.gateway import RunningGateway, free_port
from tollhouse.cli.main import app
from tollhouse.identity.vault import new_master_key

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "identity.md"
MASTER = "sk-docs-operator-key-5e6f"
runner = CliRunner()


def _section(title: str) -> str:
    text = DOC.read_text()
    start = text.index(f"## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def _blocks(text: str, lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", text, flags=re.S)


def _commands(block: str) -> Iterator[tuple[str, list[str]]]:
    """Each command of a bash block (continuations joined) with the comment lines after it."""
    lines = block.replace("\\\n", " ").splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        notes = []
        while i < len(lines) and lines[i].lstrip().startswith("#"):
            notes.append(lines[i].lstrip()[1:].strip())
            i += 1
        yield line, notes


def _expand(command: str, values: dict[str, str]) -> list[str]:
    for name, value in values.items():
        command = command.replace(f"${name}", value)
    return shlex.split(command, comments=True)


def _curl(argv: list[str], ports: dict[int, int]) -> tuple[int, Any]:
    """Run a documented curl invocation against the test servers (``ports``: doc → test)."""
    assert argv[0] == "curl"
    method, headers, body, url = "GET", {}, None, ""
    args = iter(argv[1:])
    for arg in args:
        if arg == "-s":
            continue
        if arg == "-X":
            method = next(args)
        elif arg == "-H":
            name, _, value = next(args).partition(":")
            headers[name.strip()] = value.strip()
        elif arg == "-d":
            body, method = next(args), "POST" if method == "GET" else method
        else:
            url = arg
    match = re.match(r"http://127\.0\.0\.1:(\d+)(/.*)", url)
    assert match, url
    conn = http.client.HTTPConnection("127.0.0.1", ports[int(match.group(1))], timeout=15)
    conn.request(method, match.group(2), body=body.encode() if body else None, headers=headers)
    response = conn.getresponse()
    data = response.read()
    conn.close()
    return response.status, json.loads(data) if data else None


def _cli(argv: list[str], config: Path, env: dict[str, str] | None = None) -> tuple[int, str]:
    assert argv[0] == "tollhouse"
    args = [str(config) if a == "gateway.yaml" else a for a in argv[1:]]
    result = runner.invoke(app, args, env=env)
    return result.exit_code, result.output


def _config(block: str, tmp: Path, **changes: Any) -> tuple[dict[str, Any], Path]:
    config = yaml.safe_load(block)
    config["database"]["url"] = f"sqlite:///{tmp / 'tollhouse.db'}"
    for section, value in changes.items():
        config.setdefault(section, {}).update(value)
    path = tmp / "gateway.yaml"
    path.write_text(yaml.safe_dump(config))
    return config, path


def test_the_walkthrough_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    section = _section("Walk-through")
    monkeypatch.setenv("TOLLHOUSE_MASTER_KEY", MASTER)
    admin_port = free_port()
    config, path = _config(_blocks(section, "yaml")[0], tmp_path, admin={"port": admin_port})
    values: dict[str, str] = {}
    commands = [c for block in _blocks(section, "bash") for c in _commands(block)]
    cli = [
        (line, notes) for line, notes in commands if line.startswith("tollhouse ") and " serve " not in line
    ]
    assert len(cli) >= 7, "the walk-through lost its commands"
    for line, notes in cli:
        code, output = _cli(_expand(line, values), path)
        if " policy test " in line:
            assert code in (0, 2), output
            for note in notes:  # the documented explanation, line by line
                assert note in output, f"{line}: documented {note!r}, got {output!r}"
        else:
            assert code == 0, f"{line}: {output}"
        if " keys create " in line:
            found = re.search(r"^(th-\S+)$", output, re.M)
            assert found is not None
            values["AGENT_KEY"] = found.group(1)

    calls = [(line, notes) for line, notes in commands if line.startswith("curl ")]
    assert len(calls) == 2
    with RunningGateway(config) as gw:
        for line, notes in calls:
            status, body = _curl(_expand(line, values), {4000: gw.port, 4001: admin_port})
            expected = re.match(r"→ (\d+)\s*(.*)", notes[0])
            assert expected is not None and status == int(expected.group(1)), (line, status, body)
            documented = " ".join([expected.group(2), *notes[1:]]).strip()
            if documented.startswith("{"):
                assert body == json.loads(documented)


def test_the_readme_shows_the_same_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme[readme.index("## Keys, teams and policies") :]
    shown = [line for block in _blocks(section, "bash")[:1] for line, _ in _commands(block)]
    documented = {line for block in _blocks(_section("Walk-through"), "bash") for line, _ in _commands(block)}
    assert shown and all(_expand(line, {}) in [_expand(d, {}) for d in documented] for line in shown)


@pytest.fixture
def upstream() -> Iterator[FakeOpenAI]:
    with FakeOpenAI() as fake:
        yield fake


def test_the_vault_example_runs_as_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, upstream: FakeOpenAI
) -> None:
    section = _section("Provider credentials vault")
    monkeypatch.setenv("TOLLHOUSE_MASTER_KEY", MASTER)
    monkeypatch.chdir(tmp_path)  # the example's relative paths (vault-key-1) land here
    first, second = "sk-docs-first-provider-key-0a0b", "sk-docs-rotated-provider-key-1c1d"
    admin_port = free_port()
    config, path = _config(
        _blocks(section, "yaml")[0],
        tmp_path,
        admin={"port": admin_port},
        identity={"refresh_interval_s": 0.2},
    )
    config["providers"]["openai"]["base_url"] = upstream.base_url  # the fake, not api.openai.com
    path.write_text(yaml.safe_dump(config))
    values = {"OPENAI_API_KEY": first, "NEW_OPENAI_API_KEY": second, "TOLLHOUSE_MASTER_KEY": MASTER}
    setup, rotate = (list(_commands(block)) for block in _blocks(section, "bash"))

    for line, _ in setup:
        argv = _expand(line, values)
        if argv[0] == "openssl":  # the same thing openssl writes: 32 random bytes, base64
            (tmp_path / "vault-key-1").write_text(new_master_key() + "\n")
        elif argv[1] != "serve":
            code, output = _cli(argv, path, env={"OPENAI_API_KEY": first})
            assert code == 0, f"{line}: {output}"
            assert first not in output
            if argv[1:3] == ["credentials", "list"]:
                assert "openai-prod" in output and first[-4:] in output

    with RunningGateway(config) as gw:
        chat = f"curl -s http://127.0.0.1:4000/v1/chat/completions -H 'Authorization: Bearer {MASTER}' -d "
        ask = chat + '\'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}\''
        assert _curl(shlex.split(ask), {4000: gw.port})[0] == 200
        assert upstream.requests[-1].headers["authorization"] == f"Bearer {first}"

        ((line, notes),) = rotate
        status, body = _curl(_expand(line, values), {4001: admin_port})
        assert status == 200 and body["name"] == "openai-prod" and body["last4"] == second[-4:]
        assert second not in json.dumps(body) and "never the value" in notes[0]
        for _ in range(100):
            assert _curl(shlex.split(ask), {4000: gw.port})[0] == 200
            if upstream.requests[-1].headers["authorization"] == f"Bearer {second}":
                break
            __import__("time").sleep(0.05)
        assert upstream.requests[-1].headers["authorization"] == f"Bearer {second}"
