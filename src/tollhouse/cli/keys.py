"""`tollhouse keys create | list | revoke | rotate`: the secret is printed once, at creation."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Column, Table

from tollhouse.admin.session import cli_actor
from tollhouse.cli.admin_call import ConfigOption, err, out, run_admin
from tollhouse.identity.keys import IssuedKey, KeyRequest
from tollhouse.identity.records import Scopes

app = typer.Typer(help="Virtual API keys (th-…): create, list, revoke, rotate.", no_args_is_help=True)

_DURATION_RE = re.compile(r"^(\d+(?:\.\d+)?)([smhd]?)$")
_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_duration(text: str) -> float:
    """``90``, ``15m``, ``12h``, ``30d`` → seconds."""
    match = _DURATION_RE.match(text.strip())
    if match is None:
        raise typer.BadParameter("use a number of seconds or 15m, 12h, 30d")
    return float(match.group(1)) * _UNITS[match.group(2)]


def _when(at: float | None) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M") if at else "-"


def _show_secret(issued: IssuedKey) -> None:
    out.print(f"[green]created[/] key {issued.record.id} for {issued.record.principal_id}")
    err.print("The key is shown once; store it now:")
    typer.echo(issued.secret)


@app.command("create")
def create(
    principal: Annotated[str, typer.Option(help="The user, agent or service the key authenticates as.")],
    model: Annotated[
        list[str] | None, typer.Option(help="Allowed model alias (repeat; `prefix*` ok).")
    ] = None,
    surface: Annotated[list[str] | None, typer.Option(help="Allowed surface: chat, embeddings, …")] = None,
    tool: Annotated[list[str] | None, typer.Option(help="Allowed MCP tool, server/tool or server/*.")] = None,
    agent: Annotated[list[str] | None, typer.Option(help="Allowed A2A agent id.")] = None,
    expires_in: Annotated[str | None, typer.Option(help="Lifetime: 3600, 12h, 30d.")] = None,
    name: Annotated[str, typer.Option(help="A label for lists.")] = "",
    tag: Annotated[list[str] | None, typer.Option(help="A tag.")] = None,
    config: ConfigOption = None,
) -> None:
    """Create a key; unset scopes leave that dimension open."""
    scopes = Scopes(tuple(model or ()), tuple(surface or ()), tuple(tool or ()), tuple(agent or ()))
    expires = time.time() + parse_duration(expires_in) if expires_in else None
    request = KeyRequest(principal, name, scopes, expires, tuple(tag or ()))
    _show_secret(run_admin(config, lambda s: s.create_key(cli_actor(), request)))


@app.command("list")
def list_keys(
    principal: Annotated[str | None, typer.Option(help="Only this principal's keys.")] = None,
    team: Annotated[str | None, typer.Option(help="Only keys of this team's principals.")] = None,
    all_: Annotated[bool, typer.Option("--all", help="Include revoked keys.")] = False,
    config: ConfigOption = None,
) -> None:
    """List keys (never their secrets)."""
    keys = run_admin(config, lambda s: s.keys.list_all(principal, team, all_))
    table = Table(
        Column("id", no_wrap=True),
        "principal",
        Column("key", no_wrap=True),
        "models",
        "expires",
        "last used",
        "revoked",
    )
    for k in keys:
        table.add_row(
            k.id,
            k.principal_id,
            f"{k.prefix}…{k.last4}",
            ",".join(k.scopes.models) or "*",
            _when(k.expires_at),
            _when(k.last_used_at),
            _when(k.revoked_at),
        )
    out.print(table)


@app.command("revoke")
def revoke(key_id: str, config: ConfigOption = None) -> None:
    """Revoke a key; every replica refuses it within its refresh interval."""
    run_admin(config, lambda s: s.revoke_key(cli_actor(), key_id))
    out.print(f"[green]revoked[/] {key_id}")


@app.command("rotate")
def rotate(
    key_id: str,
    grace: Annotated[str, typer.Option(help="How long the old key keeps working: 0, 15m, 1h.")] = "1h",
    config: ConfigOption = None,
) -> None:
    """Issue a replacement with the same owner and scopes; the old key expires after the grace period."""
    grace_s = parse_duration(grace)
    _show_secret(run_admin(config, lambda s: s.rotate_key(cli_actor(), key_id, grace_s)))
