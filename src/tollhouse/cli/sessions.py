"""`tollhouse sessions kill | revive | show | killed`: agent sessions and the kill switch."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from tollhouse.admin.events import event
from tollhouse.admin.services import AdminServices
from tollhouse.admin.session import cli_actor
from tollhouse.cli.admin_call import ConfigOption, out, run_admin
from tollhouse.cli.keys import parse_duration
from tollhouse.identity.errors import UnknownRecord
from tollhouse.limits.kills import (
    DEFAULT_TTL_S,
    MAX_TTL_S,
    KillRecord,
    active_kills,
    get_kill,
    kill_session,
    revive_session,
)
from tollhouse.limits.reports import SpendRow, spend_report

app = typer.Typer(help="Agent sessions: usage and the kill switch.", no_args_is_help=True)


def _when(at: float) -> str:
    return datetime.fromtimestamp(at, UTC).strftime("%Y-%m-%d %H:%M:%S")


def _view(record: KillRecord | None) -> dict[str, object] | None:
    if record is None:
        return None
    return {"killed_at": record.killed_at, "actor": record.actor, "reason": record.reason}


@app.command("kill")
def kill(
    session_id: Annotated[str, typer.Argument(help="The session: its x-tollhouse-session, or trace id.")],
    reason: Annotated[str, typer.Option(help="Why; shown in lists and the admin event.")] = "",
    ttl: Annotated[str | None, typer.Option(help="How long the kill lasts: 12h, 30d (default 30d).")] = None,
    config: ConfigOption = None,
) -> None:
    """Refuse every further call of a session, on every replica (within limits.kill_poll_s)."""
    ttl_s = parse_duration(ttl) if ttl else DEFAULT_TTL_S
    if not 0 < ttl_s <= MAX_TTL_S:
        raise typer.BadParameter(f"at most {MAX_TTL_S / 86400:.0f}d", param_hint="--ttl")

    async def work(services: AdminServices) -> KillRecord:
        before = await get_kill(services.engine, session_id)
        record = await kill_session(services.engine, session_id, cli_actor(), reason, ttl_s)
        services.sink.emit(
            event("session.kill", cli_actor(), "session", session_id, _view(before), _view(record))
        )
        return record

    record = run_admin(config, work)
    out.print(f"[green]killed[/] session {record.session_id} until {_when(record.expires_at)} UTC")


@app.command("revive")
def revive(session_id: str, config: ConfigOption = None) -> None:
    """Lift a session's kill."""

    async def work(services: AdminServices) -> None:
        before = await get_kill(services.engine, session_id)
        if before is None or not await revive_session(services.engine, session_id):
            raise UnknownRecord(f"session {session_id!r} is not killed")
        services.sink.emit(event("session.revive", cli_actor(), "session", session_id, _view(before), None))

    run_admin(config, work)
    out.print(f"[green]revived[/] session {session_id}")


@app.command("show")
def show(session_id: str, config: ConfigOption = None) -> None:
    """A session's calls, tokens and spend so far, and whether it is killed."""

    async def work(services: AdminServices) -> tuple[list[SpendRow], KillRecord | None]:
        rows = await spend_report(services.engine, "session", filters={"session": session_id})
        return rows, await get_kill(services.engine, session_id)

    rows, record = run_admin(config, work)
    if rows:
        row = rows[0]
        out.print(
            f"session {session_id}: {row.calls} calls, {row.input_tokens} input and {row.output_tokens} output "
            f"tokens, ${row.cost_usd:.6f}, {_when(row.first_us / 1e6)} to {_when(row.last_us / 1e6)} UTC"
        )
    else:
        out.print(f"session {session_id}: no calls recorded")
    if record is not None:
        out.print(f"[red]killed[/] {_when(record.killed_at)} UTC by {record.actor}: {record.reason or '-'}")


@app.command("killed")
def killed(config: ConfigOption = None) -> None:
    """List the sessions killed now."""
    records = run_admin(config, lambda s: active_kills(s.engine))
    table = Table("session", "killed at (UTC)", "until (UTC)", "by", "reason")
    for r in records:
        table.add_row(r.session_id, _when(r.killed_at), _when(r.expires_at), r.actor, r.reason or "-")
    out.print(table)
