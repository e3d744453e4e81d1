"""`tollhouse policy test | list | put | delete`: Cedar policies and why a request is decided."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tollhouse.admin.services import AdminServices
from tollhouse.admin.session import cli_actor
from tollhouse.cli.admin_call import ConfigOption, out, run_admin
from tollhouse.identity.cedar_engine import parse_entity
from tollhouse.identity.errors import InvalidInput
from tollhouse.identity.records import PolicyRecord

app = typer.Typer(help="Cedar authorization policies.", no_args_is_help=True)

_EXPLAIN = {
    "permit": "permitted by {ids}",
    "forbid": "forbidden by {ids} (a forbid always wins)",
    "no_permit": "no policy permits it, and agents are denied by default",
    "default_allow": "no policy matches; users and services are allowed by default",
    "default_deny": "no policy matches; authorization.users_default is deny",
}


@app.command("test")
def explain(
    principal: Annotated[str, typer.Option(help="A principal id: user, agent or service.")],
    action: Annotated[str, typer.Option(help="invoke_model, call_tool, send_message or admin:…")],
    resource: Annotated[
        str, typer.Option(help='Model::"gpt-4o" or model:gpt-4o, tool:server/tool, agent:id')
    ],
    config: ConfigOption = None,
) -> None:
    """Explain the decision for one (principal, action, resource), against stored and config policies."""
    try:
        resource_type, resource_id = parse_entity(resource)
    except InvalidInput as exc:
        raise typer.BadParameter(exc.message) from None
    who, verdict = run_admin(config, lambda s: s.explain(principal, action, resource_type, resource_id))
    decision = "[green]ALLOW[/]" if verdict.allowed else "[red]DENY[/]"
    out.print(f'{decision} {who.kind}:{who.id} {action} {resource_type}::"{resource_id}"', highlight=False)
    out.print("  " + _EXPLAIN[verdict.reason].format(ids=", ".join(verdict.policies)), highlight=False)
    if not verdict.allowed:
        raise typer.Exit(2)


@app.command("list")
def list_policies(config: ConfigOption = None) -> None:
    """List stored policies (config-file policies are listed by id)."""
    stored, config_ids = run_admin(config, _both)
    table = Table("id", "source", "description")
    for pid in config_ids:
        table.add_row(pid, "config", "")
    for p in stored:
        table.add_row(p.id, "database", p.description)
    out.print(table)


async def _both(services: AdminServices) -> tuple[list[PolicyRecord], tuple[str, ...]]:
    return await services.policies.list_all(), services.config_policy_ids()


@app.command("put")
def put(
    policy_id: str,
    file: Annotated[Path | None, typer.Option(help="A .cedar file.")] = None,
    text: Annotated[str | None, typer.Option(help="The policy text itself.")] = None,
    description: Annotated[str, typer.Option(help="What it is for.")] = "",
    config: ConfigOption = None,
) -> None:
    """Create or replace a stored policy (validated before it is stored)."""
    if (file is None) == (text is None):
        raise typer.BadParameter("give exactly one of --file and --text")
    body = file.read_text(encoding="utf-8") if file is not None else str(text)
    run_admin(config, lambda s: s.put_policy(cli_actor(), policy_id, body, description))
    out.print(f"[green]stored[/] policy {policy_id}")


@app.command("delete")
def delete(policy_id: str, config: ConfigOption = None) -> None:
    """Delete a stored policy."""
    run_admin(config, lambda s: s.delete_policy(cli_actor(), policy_id))
    out.print(f"[green]deleted[/] policy {policy_id}")
