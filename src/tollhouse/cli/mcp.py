"""`tollhouse mcp tools | approve | reject | calls | allow | deny`: pinned definitions and held calls."""

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
from tollhouse.mcp import operations
from tollhouse.mcp.pin_store import PinStore

app = typer.Typer(help="The MCP gateway: tool definitions to approve, tool calls held for approval.",
                  no_args_is_help=True)  # fmt: skip
KindOption = Annotated[str, typer.Option(help="tool, prompt, resource or template.")]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON lines.")]


def _when(at: float | None) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S") if at else "-"


def _print(rows: list[dict[str, Any]], as_json: bool, columns: list[tuple[str, str]]) -> None:
    if as_json:
        for row in rows:
            typer.echo(json.dumps(row, sort_keys=True))
        return
    table = Table(*(title for title, _ in columns))
    for row in rows:
        table.add_row(*(_cell(row.get(key)) for _, key in columns))
    out.print(table)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return _when(value)
    if isinstance(value, list):
        return ", ".join(str(v.get("kind", v)) if isinstance(v, dict) else str(v) for v in value) or "-"
    if isinstance(value, dict):
        return ", ".join(value) or "-"
    return "-" if value is None else str(value)


@app.command("tools")
def tools(
    pending: Annotated[bool, typer.Option(help="Only definitions waiting for approval.")] = False,
    server: Annotated[str | None, typer.Option(help="Only this server's.")] = None,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Definitions the gateway has seen: pinned, pending (new and flagged, or changed) or rejected."""

    async def work(services: AdminServices) -> list[dict[str, Any]]:
        return await operations.list_definitions(PinStore(services.engine), pending, server)

    rows = run_admin(config, work)
    columns = [("server", "server"), ("kind", "kind"), ("name", "name"), ("status", "status"),
               ("findings", "findings"), ("changed", "diff"), ("updated", "updated_at")]  # fmt: skip
    _print(rows, as_json, columns)


def _decide_definition(target: str, kind: str, approve: bool, config: ConfigOption) -> None:
    async def work(services: AdminServices) -> dict[str, Any]:
        store = PinStore(services.engine)
        return await operations.decide_definition(store, services.sink, cli_actor(), target, kind, approve)

    row = run_admin(config, work)
    verb = "approved" if approve else "rejected"
    out.print(f"[green]{verb}[/] {row['kind']} {row['server']}/{row['name']} ({row['status']})")


@app.command("approve")
def approve(
    target: Annotated[str, typer.Argument(help="SERVER/NAME, e.g. github/create_issue.")],
    kind: KindOption = "tool",
    config: ConfigOption = None,
) -> None:
    """Pin the pending definition: it becomes usable on every replica within pinning.refresh_s."""
    _decide_definition(target, kind, True, config)


@app.command("reject")
def reject(
    target: Annotated[str, typer.Argument(help="SERVER/NAME.")],
    kind: KindOption = "tool",
    config: ConfigOption = None,
) -> None:
    """Reject the pending definition: it stays blocked (until it changes again)."""
    _decide_definition(target, kind, False, config)


@app.command("calls")
def calls(
    all_calls: Annotated[bool, typer.Option("--all", help="Decided and expired calls too.")] = False,
    as_json: JsonOption = False,
    config: ConfigOption = None,
) -> None:
    """Tool calls held for approval."""

    async def work(services: AdminServices) -> list[dict[str, Any]]:
        return await store.list_approvals(services.engine, None if all_calls else "pending", source=store.MCP)

    columns = [("id", "id"), ("status", "status"), ("server", "server"), ("tool", "tool"),
               ("principal", "principal"), ("why", "reason"), ("arguments", "args_preview"),
               ("expires", "expires_at")]  # fmt: skip
    _print(run_admin(config, work), as_json, columns)


def _decide_call(approval_id: str, approve: bool, note: str, config: ConfigOption) -> None:
    async def work(services: AdminServices) -> dict[str, Any]:
        return await decide(services.engine, services.sink, cli_actor(), approval_id, approve, note)

    row = run_admin(config, work)
    out.print(f"[green]{row['status']}[/] {row['id']}: {row['server']}/{row['tool']} for {row['principal']}")


@app.command("allow")
def allow(
    approval_id: Annotated[str, typer.Argument(help="The held call's id (apr_…).")],
    note: Annotated[str, typer.Option(help="Why; kept with the decision.")] = "",
    config: ConfigOption = None,
) -> None:
    """Approve a held tool call: it goes ahead."""
    _decide_call(approval_id, True, note, config)


@app.command("deny")
def deny(
    approval_id: Annotated[str, typer.Argument(help="The held call's id (apr_…).")],
    note: Annotated[str, typer.Option(help="Why; kept with the decision.")] = "",
    config: ConfigOption = None,
) -> None:
    """Deny a held tool call: the caller gets an error."""
    _decide_call(approval_id, False, note, config)
