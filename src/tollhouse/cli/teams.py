"""`tollhouse teams create | list | delete | add-user`."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from tollhouse.admin.services import AdminServices
from tollhouse.admin.session import cli_actor
from tollhouse.cli.admin_call import ConfigOption, out, run_admin
from tollhouse.identity.errors import UnknownRecord
from tollhouse.identity.records import PrincipalRecord, Team

app = typer.Typer(help="Organisations' teams and their users.", no_args_is_help=True)


@app.command("create")
def create(
    team_id: Annotated[str, typer.Argument(help="The team's id, e.g. ml.")],
    org: Annotated[str, typer.Option(help="Organisation id (created if it does not exist).")] = "default",
    name: Annotated[str | None, typer.Option(help="Display name; default: the id.")] = None,
    config: ConfigOption = None,
) -> None:
    """Create a team (and its organisation on first use)."""

    async def work(services: AdminServices) -> Team:
        try:
            await services.directory.get_org(org)
        except UnknownRecord:
            await services.create_org(cli_actor(), org, org)
        return await services.create_team(cli_actor(), org, name or team_id, team_id)

    team = run_admin(config, work)
    out.print(f"[green]created[/] team {team.id} in {team.org_id}")


@app.command("list")
def list_teams(config: ConfigOption = None) -> None:
    """List teams."""
    teams = run_admin(config, lambda s: s.directory.list_teams())
    table = Table("id", "org", "name")
    for team in teams:
        table.add_row(team.id, team.org_id, team.name)
    out.print(table)


@app.command("delete")
def delete(team_id: str, config: ConfigOption = None) -> None:
    """Delete an empty team."""
    run_admin(config, lambda s: s.delete_team(cli_actor(), team_id))
    out.print(f"[green]deleted[/] team {team_id}")


@app.command("add-user")
def add_user(
    user_id: Annotated[str, typer.Argument(help="The user's id, e.g. alice.")],
    team: Annotated[str, typer.Option(help="The team the user belongs to.")],
    role: Annotated[
        list[str] | None,
        typer.Option(help="Admin role: admin, security-auditor, approver, team-admin, viewer."),
    ] = None,
    name: Annotated[str | None, typer.Option(help="Display name; default: the id.")] = None,
    config: ConfigOption = None,
) -> None:
    """Add a user (a person: owner of agents, holder of keys and admin roles) to a team."""

    async def work(services: AdminServices) -> PrincipalRecord:
        org = (await services.directory.get_team(team)).org_id
        return await services.create_principal(
            cli_actor(), "user", org, name or user_id, principal_id=user_id, team_id=team, roles=role or ()
        )

    user = run_admin(config, work)
    out.print(f"[green]created[/] user {user.id} in team {user.team_id}")
