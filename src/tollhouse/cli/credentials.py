"""`tollhouse credentials put | list | delete | reseal`: the provider-credential vault.

A value is never taken from the command line (shell history and the process list keep
arguments): it comes from standard input, an environment variable or a file. Nothing prints
it back; lists show the last four characters only.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tollhouse.admin.session import cli_actor
from tollhouse.cli.admin_call import ConfigOption, err, out, run_admin

app = typer.Typer(help="Provider credentials, encrypted in the vault.", no_args_is_help=True)


def _value(from_env: str | None, from_file: Path | None) -> str:
    if from_env and from_file:
        err.print("[bold red]error[/] give --from-env or --from-file, not both")
        raise typer.Exit(2)
    if from_env:
        value = os.environ.get(from_env, "")
        where = f"environment variable {from_env}"
    elif from_file:
        try:
            value = from_file.read_text(encoding="utf-8")
        except OSError as exc:
            err.print(f"[bold red]error[/] cannot read {from_file}: {exc.strerror}")
            raise typer.Exit(1) from None
        where = str(from_file)
    else:
        value = sys.stdin.readline()
        where = "standard input"
    value = value.strip()
    if not value:
        err.print(f"[bold red]error[/] no value in {where}")
        raise typer.Exit(1)
    return value


@app.command("put")
def put(
    name: Annotated[str, typer.Argument(help="The credential's name, e.g. openai-prod.")],
    from_env: Annotated[
        str | None, typer.Option(help="Read the value from this environment variable.")
    ] = None,
    from_file: Annotated[Path | None, typer.Option(help="Read the value from this file.")] = None,
    config: ConfigOption = None,
) -> None:
    """Store or replace a credential (default: the value is read from standard input).

    A running gateway whose provider names it (`api_key: vault:NAME`) picks up the new value
    within `identity.refresh_interval_s`, at once with Redis."""
    value = _value(from_env, from_file)
    record = run_admin(config, lambda s: s.put_credential(cli_actor(), name, value))
    out.print(
        f"[green]stored[/] credential {record.name} (…{record.last4}, key version {record.key_version})"
    )


@app.command("list")
def list_credentials(config: ConfigOption = None) -> None:
    """List credentials: names, last four characters, master-key version."""
    records = run_admin(config, lambda s: s.credentials.list_all())
    table = Table("name", "last4", "key version")
    for record in records:
        table.add_row(record.name, record.last4, str(record.key_version))
    out.print(table)


@app.command("delete")
def delete(name: str, config: ConfigOption = None) -> None:
    """Delete a credential."""
    run_admin(config, lambda s: s.delete_credential(cli_actor(), name))
    out.print(f"[green]deleted[/] credential {name}")


@app.command("reseal")
def reseal(config: ConfigOption = None) -> None:
    """Re-encrypt every credential under the newest master key."""
    moved = run_admin(config, lambda s: s.reseal_credentials(cli_actor()))
    out.print(f"[green]resealed[/] {moved} credential{'s' if moved != 1 else ''}")
