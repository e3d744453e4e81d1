"""What happens around a tool call: sampling and elicitation relayed to the caller, guardrails
on arguments and results, human approval, and tool-call limits."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from mcp import types
from mcp.client.context import ClientRequestContext
from typer.testing import CliRunner

from tests.fakes.mcp_gateway import MASTER, connect, http_server, mcp_config
from tests.fakes.mcp_servers import McpHttpServer, files_server, notes_server
from tests.support.gateway import RunningGateway
from tollhouse.approvals import store as approval_store
from tollhouse.cli.main import app
from tollhouse.storage.engine import create_engine

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")
AWS_KEY = "AKIAIOSFODNN7EXAMPLE"


class Env:
    def __init__(self, gateway: RunningGateway, db: str, config_path: Path) -> None:
        self.gateway = gateway
        self.db = db
        self.config_path = config_path
        self.url = f"{gateway.url}/mcp/work"

    async def cli(self, *args: str) -> str:
        """The CLI (it runs its own event loop: in a thread)."""

        def run() -> str:
            result = CliRunner().invoke(app, [*args, "--config", str(self.config_path)])
            assert result.exit_code == 0, result.output
            return result.output

        return await asyncio.to_thread(run)


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Env]:
    folder = tmp_path_factory.mktemp("mcp-calls")
    db = f"sqlite:///{folder / 'gw.db'}"
    with McpHttpServer(notes_server()) as notes, McpHttpServer(files_server()) as files:
        servers = {
            "notes": http_server(notes.url),
            "files": http_server(files.url),
            "sleepy": http_server(files.url, timeout_s=0.5),
        }
        config = mcp_config(
            servers,
            [{"name": "work", "servers": ["notes", "files"]}, {"name": "sleepy", "servers": ["sleepy"]}],
            pinning={"mode": "off"},
            approvals={"tools": ["notes/add_note"], "timeout_s": 2, "poll_s": 0.05},
            limits={"per_tool_per_minute": 4},
        )
        config["database"] = {"url": db}
        config["guardrails"] = {
            "policies": [
                {
                    "name": "tools",
                    "stages": ["tool_args", "tool_results"],
                    "max_scan_chars": 5_000,
                    "guards": [
                        {"type": "secrets", "stages": ["tool_args"]},
                        {"type": "injection", "stages": ["tool_results"]},
                        {
                            "type": "pii",
                            "action": "redact",
                            "entities": ["EMAIL"],
                            "stages": ["tool_results"],
                        },
                    ],
                }
            ]
        }
        path = folder / "gateway.yaml"
        path.write_text(yaml.safe_dump(config))
        with RunningGateway(config) as gateway:
            yield Env(gateway, db, path)


def _text(result: types.CallToolResult) -> str:
    block = result.content[0]
    assert isinstance(block, types.TextContent)
    return block.text


async def test_sampling_is_relayed_to_the_caller(env: Env) -> None:
    asked: list[str] = []

    async def sample(
        ctx: ClientRequestContext, params: types.CreateMessageRequestParams
    ) -> types.CreateMessageResult:
        content = params.messages[0].content
        asked.append(content.text if isinstance(content, types.TextContent) else "")
        return types.CreateMessageResult(
            role="assistant", content=types.TextContent(type="text", text="autumn leaves fall"), model="demo"
        )

    async with connect(env.url, MASTER, sampling_callback=sample) as client:
        result = await client.call_tool("files__haiku", {"topic": "autumn"})
    assert asked == ["autumn"]
    assert _text(result) == "haiku: autumn leaves fall"


async def test_elicitation_is_relayed_to_the_caller(env: Env) -> None:
    async def elicit(ctx: ClientRequestContext, params: Any) -> types.ElicitResult:
        return types.ElicitResult(action="accept", content={"confirm": True})

    async with connect(env.url, MASTER, elicitation_callback=elicit) as client:
        result = await client.call_tool("files__wipe", {})
    assert _text(result) == "wiped"


async def test_a_caller_without_sampling_gets_no_sampling_request(env: Env) -> None:
    async with connect(env.url, MASTER) as client:
        with pytest.raises(Exception, match="the client does not support sampling"):
            await client.call_tool("files__haiku", {"topic": "winter"})


async def test_a_secret_in_the_arguments_is_blocked(env: Env) -> None:
    async with connect(env.url, MASTER) as client:
        with pytest.raises(Exception, match="blocked by guard tools/secrets"):
            await client.call_tool("files__read_file", {"path": f"/tmp/{AWS_KEY}"})
        fine = await client.call_tool("files__read_file", {"path": "/tmp/ok"})
    assert _text(fine) == "contents of /tmp/ok"


async def test_arguments_longer_than_the_policy_reads_are_blocked(env: Env) -> None:
    async with connect(env.url, MASTER) as client:  # fail_closed: unread is not passed
        with pytest.raises(Exception, match="blocked by guard tools/secrets"):
            await client.call_tool("files__read_file", {"path": "/tmp/" + "a" * 5_000})


async def test_an_injection_in_a_result_is_withheld(env: Env) -> None:
    async with connect(env.url, MASTER) as client:
        result = await client.call_tool("files__fetch", {"url": "https://example.com"})
    assert result.is_error is True
    assert "withheld" in _text(result) and "evil.example.com" not in _text(result)


async def _decide_when_pending(db: str, approve: bool) -> dict[str, Any]:
    engine = create_engine(db)
    try:
        for _ in range(200):
            pending = await approval_store.list_approvals(engine)
            if pending:
                decided = await approval_store.decide(engine, pending[0]["id"], approve, "user:approver")
                assert decided is not None
                return decided
            await asyncio.sleep(0.02)
        raise AssertionError("no call was held")
    finally:
        await engine.dispose()


async def test_a_held_call_goes_ahead_once_approved(env: Env) -> None:
    async with connect(env.url, MASTER) as client:
        call = asyncio.create_task(client.call_tool("notes__add_note", {"text": "needs a human"}))
        decided = await _decide_when_pending(env.db, approve=True)
        result = await call
    assert decided["status"] == "approved" and decided["tool"] == "add_note"
    assert '"text":"needs a human"' in decided["args_preview"]
    assert _text(result).startswith("noted")


async def test_a_denied_or_unanswered_call_fails(env: Env) -> None:
    async with connect(env.url, MASTER) as client:
        call = asyncio.create_task(client.call_tool("notes__add_note", {"text": "no"}))
        held: list[dict[str, Any]] = []
        for _ in range(200):
            held = [json.loads(line) for line in (await env.cli("mcp", "calls", "--json")).splitlines()]
            if held:
                break
            await asyncio.sleep(0.05)
        assert [(h["server"], h["tool"], h["reason"]) for h in held] == [("notes", "add_note", "configured")]
        assert "denied" in await env.cli("mcp", "deny", held[0]["id"], "--note", "not today")
        with pytest.raises(Exception, match=r"not approved \(denied\)"):
            await call
        with pytest.raises(Exception, match=r"not approved \(expired\)"):
            await client.call_tool("notes__add_note", {"text": "nobody answers"})


async def test_tool_calls_per_minute_are_limited(env: Env) -> None:
    async with connect(env.url, MASTER) as client:
        for _ in range(4):
            await client.call_tool("notes__list_notes", {})
        with pytest.raises(Exception, match="tool-call limit per_tool_per_minute reached"):
            await client.call_tool("notes__list_notes", {})


async def test_an_upstream_that_takes_too_long_times_out(env: Env) -> None:
    async with connect(env.url.replace("/mcp/work", "/mcp/sleepy"), MASTER) as client:
        assert _text(await client.call_tool("nap", {"seconds": 0.01})) == "rested"
        with pytest.raises(Exception, match="did not answer in time"):
            await client.call_tool("nap", {"seconds": 3})
