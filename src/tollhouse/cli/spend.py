"""`tollhouse spend report | export`: what calls cost, from the ledger."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from tollhouse.admin.services import AdminServices
from tollhouse.cli.admin_call import ConfigOption, err, out, run_admin
from tollhouse.limits.reports import EXPORT_COLUMNS, GROUPS, SpendRow, ledger_rows, spend_report, to_csv
from tollhouse.limits.timespec import BadTime, to_us

app = typer.Typer(help="Spend and usage from the ledger: reports and CSV.", no_args_is_help=True)

SinceOption = Annotated[str | None, typer.Option(help="From: 7d, 24h, 2026-11-01, ISO time, epoch s.")]
UntilOption = Annotated[str | None, typer.Option(help="Until (excluded); same forms as --since.")]
FilterOption = Annotated[
    list[str] | None, typer.Option("--where", help="Only rows where DIMENSION=VALUE, e.g. team=ml (repeat).")
]


def period(since: str | None, until: str | None) -> tuple[int | None, int | None]:
    try:
        return to_us(since), to_us(until)
    except BadTime as exc:
        raise typer.BadParameter(str(exc)) from None


def filters(where: list[str] | None) -> dict[str, str]:
    chosen = {}
    for item in where or ():
        name, sep, value = item.partition("=")
        if not sep or name not in GROUPS:
            raise typer.BadParameter(f"--where {item!r}: DIMENSION=VALUE with one of {', '.join(GROUPS)}")
        chosen[name] = value
    return chosen


@app.command("report")
def report(
    by: Annotated[str, typer.Option(help=f"Group by: {', '.join(GROUPS)}.")] = "day",
    since: SinceOption = None,
    until: UntilOption = None,
    where: FilterOption = None,
    csv: Annotated[bool, typer.Option("--csv", help="Print CSV instead of a table.")] = False,
    config: ConfigOption = None,
) -> None:
    """Totals (calls, tokens, USD) per key, team, agent, session, model or day."""
    if by not in GROUPS:
        raise typer.BadParameter(f"--by: one of {', '.join(GROUPS)}")
    start, end = period(since, until)
    chosen = filters(where)

    async def work(services: AdminServices) -> list[SpendRow]:
        return await spend_report(services.engine, by, start, end, chosen)

    rows = run_admin(config, work)
    if csv:
        columns = [by, "calls", "input_tokens", "output_tokens", "cost_usd", "estimated_calls"]
        typer.echo(to_csv(columns, (r.as_dict(by) for r in rows)), nl=False)
        return
    table = Table(by, "calls", "input tokens", "output tokens", "USD")
    for row in rows:
        table.add_row(
            row.group or "-",
            str(row.calls),
            str(row.input_tokens),
            str(row.output_tokens),
            f"{row.cost_usd:.6f}",
        )
    out.print(table)
    out.print(f"total: ${sum(r.cost_nusd for r in rows) / 1e9:.6f} over {sum(r.calls for r in rows)} calls")


@app.command("export")
def export(
    since: SinceOption = None,
    until: UntilOption = None,
    where: FilterOption = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here; default: stdout.")
    ] = None,
    config: ConfigOption = None,
) -> None:
    """Every ledger row of a period as CSV (cost in USD)."""
    start, end = period(since, until)
    chosen = filters(where)
    rows = run_admin(config, lambda s: ledger_rows(s.engine, start, end, chosen))
    text = to_csv(EXPORT_COLUMNS, rows)
    if output is None:
        typer.echo(text, nl=False)
        return
    output.write_text(text)
    err.print(f"[green]wrote[/] {len(rows)} rows to {output}")
