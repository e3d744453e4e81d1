"""`tollhouse approvals list | show | approve | deny`: tool calls held for a human decision,
from the MCP gateway and the LLM surfaces alike."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from tollhouse.admin.services import AdminServices
from tollhouse.admin.session import cli_actor
from tollhouse.approvals import store
from tollhouse.approvals.decide import decide
from tollhouse.cli.admin_call import ConfigOption, out, run_admin
from tollhouse.identity.errors import UnknownRecord

app = typer.Typer(help="Tool calls held for approval: list them, approve or deny them.", no_args_is_help=True)
NoteOption = Annotated[str, typer.Option(help="Why; kept with the decision.")]
IdArgument = Annotated[str, typer.Argument(help="The held call's approval id (apr_…).")]
_COLUMNS = ("id", "status", "source", "server", "tool", "principal", "reason", "args_preview", "expires_at")


def _cell(key: str, value: Any) -> str:
    if value is None:
        return "-"
    if key.endswith("_at"):
        return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")
    return str(value)


@app.command("list")
def list_(
    status: Annotated[str, typer.Option(help="pending, approved, denied, expired or all.")] = "pending",
    source: Annotated[str, typer.Option(help="mcp, llm or all.")] = "all",
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON lines.")] = False,
    config: ConfigOption = None,
) -> None:
    """Held tool calls, newest first (``server`` is the MCP server, or the model alias)."""

    async def work(services: AdminServices) -> list[dict[str, Any]]:
        return await store.list_approvals(
            services.engine, None if status == "all" else status, source=None if source == "all" else source
        )

    rows = run_admin(config, work)
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, sort_keys=True))
        return
    table = Table(*_COLUMNS)
    for row in rows:
        table.add_row(*(_cell(k, row.get(k)) for k in _COLUMNS))
    out.print(table)


@app.command("show")
def show(approval_id: IdArgument, config: ConfigOption = None) -> None:
    """One held call, as JSON."""

    async def work(services: AdminServices) -> dict[str, Any]:
        row = await store.get(services.engine, approval_id)
        if row is None:
            raise UnknownRecord(f"no approval {approval_id}")
        return row

    typer.echo(json.dumps(run_admin(config, work), indent=2, sort_keys=True))


def _decide(approval_id: str, approve: bool, note: str, config: ConfigOption) -> None:
    async def work(services: AdminServices) -> dict[str, Any]:
        return await decide(services.engine, services.sink, cli_actor(), approval_id, approve, note)

    row = run_admin(config, work)
    out.print(f"[green]{row['status']}[/] {row['id']}: {row['tool']} for {row['principal']}")


@app.command("approve")
def approve(approval_id: IdArgument, note: NoteOption = "", config: ConfigOption = None) -> None:
    """Approve a held call: an MCP call goes ahead; an LLM caller's retry passes."""
    _decide(approval_id, True, note, config)


@app.command("deny")
def deny(approval_id: IdArgument, note: NoteOption = "", config: ConfigOption = None) -> None:
    """Deny a held call: the caller gets an error, and so do its retries."""
    _decide(approval_id, False, note, config)
