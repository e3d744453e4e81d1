"""`tollhouse agents create | list | delete`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tollhouse.admin.services import AdminServices
from tollhouse.admin.session import cli_actor
from tollhouse.cli.admin_call import ConfigOption, out, run_admin
from tollhouse.identity.records import PrincipalRecord

app = typer.Typer(help="Agents: first-class principals with an owner.", no_args_is_help=True)


@app.command("create")
def create(
    agent_id: Annotated[str, typer.Argument(help="The agent's id, e.g. planner.")],
    team: Annotated[str, typer.Option(help="The team it belongs to.")],
    owner: Annotated[str, typer.Option(help="The user or service account answerable for it.")],
    delegate: Annotated[
        bool, typer.Option("--delegate", help="May act on behalf of users (x-tollhouse-on-behalf-of).")
    ] = False,
    tag: Annotated[list[str] | None, typer.Option(help="A tag Cedar policies can test.")] = None,
    name: Annotated[str | None, typer.Option(help="Display name; default: the id.")] = None,
    config: ConfigOption = None,
) -> None:
    """Create an agent."""

    async def work(services: AdminServices) -> PrincipalRecord:
        org = (await services.directory.get_team(team)).org_id
        return await services.create_principal(
            cli_actor(),
            "agent",
            org,
            name or agent_id,
            principal_id=agent_id,
            team_id=team,
            owner_id=owner,
            tags=tag or (),
            can_delegate=delegate,
        )

    agent = run_admin(config, work)
    out.print(f"[green]created[/] agent {agent.id} in team {agent.team_id}, owned by {agent.owner_id}")


@app.command("list")
def list_agents(
    team: Annotated[str | None, typer.Option(help="Only this team's agents.")] = None,
    config: ConfigOption = None,
) -> None:
    """List agents."""
    agents = run_admin(config, lambda s: s.directory.list_principals("agent", team))
    table = Table("id", "team", "owner", "delegates", "tags")
    for a in agents:
        table.add_row(
            a.id, a.team_id or "-", a.owner_id or "-", "yes" if a.can_delegate else "no", ",".join(a.tags)
        )
    out.print(table)


@app.command("delete")
def delete(agent_id: str, config: ConfigOption = None) -> None:
    """Remove an agent and its keys."""
    run_admin(config, lambda s: s.delete_principal(cli_actor(), agent_id))
    out.print(f"[green]deleted[/] agent {agent_id}")
