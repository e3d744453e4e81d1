"""`tollhouse audit verify | search | session | export | keygen | public-key | shred`."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.markup import escape
from rich.tree import Tree

from tollhouse.audit.events import parse_time
from tollhouse.audit.search import SearchFilters
from tollhouse.audit.service import AuditService, read_witness
from tollhouse.audit.signing import (
    KeyFormatError,
    load_private_key,
    load_public_key,
    new_private_key_pem,
    public_raw,
)
from tollhouse.audit.timeline import CallNode
from tollhouse.config.load import ConfigError

app = typer.Typer(help="Verify, search and export the tamper-evident audit trail.", no_args_is_help=True)
err = Console(stderr=True)
out = Console(highlight=False)
T = TypeVar("T")

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML config; default: the built-in demo.")
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of text.")]


def _run(
    config: Path | None, work: Callable[[AuditService], Awaitable[T]], keys: list[str] | None = None
) -> T:
    """Open the configured audit database, run ``work`` against it, close it."""
    from tollhouse.audit.wiring import open_service
    from tollhouse.http.factory import load

    try:
        cfg, source = load(config)
        service = open_service(cfg, source)
        service.public_keys.extend(load_public_key(k) for k in keys or [])
    except ConfigError as exc:
        for issue in exc.issues:
            err.print(f"[bold red]config[/] {issue.path}: {issue.message}")
        raise typer.Exit(2) from None
    except KeyFormatError as exc:
        err.print(f"[bold red]error[/] --public-key: {exc}")
        raise typer.Exit(2) from None

    async def main() -> T:
        try:
            return await work(service)
        finally:
            await service.engine.dispose()

    return asyncio.run(main())


def _time(value: str | None, name: str) -> int | None:
    if value is None:
        return None
    try:
        return parse_time(value)
    except ValueError:
        err.print(f"[bold red]error[/] {name}: not an ISO 8601 time (e.g. 2026-05-01T12:00:00Z)")
        raise typer.Exit(2) from None


@app.command()
def verify(
    config: ConfigOption = None,
    chain: Annotated[str | None, typer.Option(help="Only this chain.")] = None,
    since: Annotated[
        str | None, typer.Option(help="From the last checkpoint at or before this time.")
    ] = None,
    witness: Annotated[
        Path | None, typer.Option(help="Witness file: checkpoints kept outside the database.")
    ] = None,
    public_key: Annotated[
        list[str] | None, typer.Option("--public-key", help="A trusted Ed25519 public key (base64 or PEM).")
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Recompute every hash and check every checkpoint signature; name the first bad record. Exit 1 if any."""
    since_us = _time(since, "--since")
    copies = read_witness(witness) if witness else None
    report = _run(config, lambda s: s.verify(chain, since_us, copies), public_key)
    if as_json:
        typer.echo(json.dumps(report.to_json(), indent=2))
    else:
        for result in report.chains:
            mark = "[green]ok[/]" if result.ok else "[bold red]FAILED[/]"
            out.print(
                f"{mark} {result.chain_id}: records {result.first_seq}..{result.last_seq}, "
                f"{result.checkpoints} checkpoints{', closed' if result.closed else ''}"
            )
        for problem in report.problems:
            out.print(
                f"[bold red]{problem.kind}[/] chain {problem.chain_id} record {problem.seq}: {problem.message}"
            )
        for note in report.notes:
            out.print(f"[yellow]note[/] {note}")
    raise typer.Exit(0 if report.ok else 1)


@app.command()
def search(
    config: ConfigOption = None,
    principal: Annotated[str | None, typer.Option(help="Principal id.")] = None,
    agent: Annotated[str | None, typer.Option(help="Agent id.")] = None,
    org: Annotated[str | None, typer.Option(help="Organisation id.")] = None,
    session: Annotated[str | None, typer.Option(help="Agent session id.")] = None,
    trace: Annotated[str | None, typer.Option(help="W3C trace id.")] = None,
    request: Annotated[str | None, typer.Option(help="Request id.")] = None,
    event_type: Annotated[str | None, typer.Option("--type", help="Event type, e.g. llm.response.")] = None,
    verdict: Annotated[str | None, typer.Option(help="Worst verdict: deny, block, redact, flag…")] = None,
    status: Annotated[int | None, typer.Option(help="HTTP status.")] = None,
    since: Annotated[str | None, typer.Option(help="From this time (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (ISO 8601).")] = None,
    limit: Annotated[int, typer.Option(help="At most this many records, newest first.")] = 100,
) -> None:
    """Find records (JSON lines, newest first)."""
    filters = SearchFilters(
        principal, agent, org, session, trace, request, event_type, verdict, status, None,
        _time(since, "--since"), _time(until, "--until"), limit,
    )  # fmt: skip
    for record in _run(config, lambda s: s.search(filters)):
        typer.echo(json.dumps(record, ensure_ascii=False))


def _label(node: CallNode) -> str:
    s = node.summary()
    usage = s.get("usage", {})
    parts = [
        f"[bold]{node.kind}[/] {node.time}",
        s.get("route") or "",
        f"status {s['status']}" if "status" in s else "",
    ]
    if usage:
        parts.append(f"{usage.get('total_tokens', 0)} tokens")
    if "cost_micro_usd" in s:
        parts.append(f"${s['cost_micro_usd'] / 1e6:.6f}")
    return "  ".join(p for p in parts if p)


def _grow(tree: Tree, node: CallNode) -> None:
    branch = tree.add(_label(node))
    for event in node.events:
        verdicts = ", ".join(f"{v['policy']}={v['outcome']}" for v in event.get("verdicts", []))
        branch.add(escape(f"{event['type']}{'  ' + verdicts if verdicts else ''}"))
    for part, text in node.content.items():
        branch.add(f"[dim]{part}:[/] {escape(text[:500])}")
    for child in node.children:
        _grow(branch, child)


@app.command()
def session(
    session_id: Annotated[str, typer.Argument(help="The agent session id.")],
    config: ConfigOption = None,
    reveal: Annotated[bool, typer.Option(help="Decrypt and show prompts and answers.")] = False,
    as_json: JsonOption = False,
) -> None:
    """Print one agent session as a tree: calls, decisions, tokens and costs."""
    timeline = _run(config, lambda s: s.session_timeline(session_id, reveal_content=reveal))
    if as_json:
        typer.echo(json.dumps(timeline.to_json(), indent=2, ensure_ascii=False))
        return
    tree = Tree(
        f"session [bold]{escape(session_id)}[/]: {timeline.calls} calls, {timeline.total_tokens} tokens, "
        f"${timeline.cost_micro_usd / 1e6:.6f}"
    )
    for root in timeline.roots:
        _grow(tree, root)
    out.print(tree)


@app.command()
def export(
    config: ConfigOption = None,
    output: Annotated[
        Path | None, typer.Option("--out", "-o", help="File to write; default: stdout.")
    ] = None,
    since: Annotated[str | None, typer.Option(help="From this time (ISO 8601).")] = None,
    until: Annotated[str | None, typer.Option(help="Before this time (ISO 8601).")] = None,
    chain: Annotated[str | None, typer.Option(help="Only this chain.")] = None,
    otlp_endpoint: Annotated[
        str | None,
        typer.Option(help="Send GenAI spans to this OTLP/HTTP traces URL instead of writing JSON."),
    ] = None,
) -> None:
    """Write records as JSON lines (chain order, each with chain, seq and hash), or send spans over OTLP."""
    from tollhouse.audit.export import export_jsonl, export_otlp

    since_us, until_us = _time(since, "--since"), _time(until, "--until")
    if otlp_endpoint:
        sent = _run(config, lambda s: export_otlp(s, otlp_endpoint, chain, since_us, until_us))
        err.print(f"sent {sent} records as spans to {otlp_endpoint}")
        return
    target = output.open("w", encoding="utf-8") if output else sys.stdout
    try:
        count = _run(config, lambda s: export_jsonl(s, target, chain, since_us, until_us))
    finally:
        if output:
            target.close()
    err.print(f"exported {count} records")


@app.command()
def keygen(
    content: Annotated[
        bool, typer.Option("--content", help="A content master key (32 bytes, base64) instead.")
    ] = False,
) -> None:
    """Print a new Ed25519 checkpoint signing key (PEM); its public key goes to stderr."""
    if content:
        typer.echo(base64.b64encode(os.urandom(32)).decode())
        return
    pem = new_private_key_pem()
    typer.echo(pem, nl=False)
    err.print(f"public key: {base64.b64encode(public_raw(load_private_key(pem).public_key())).decode()}")


@app.command("public-key")
def public_key(config: ConfigOption = None) -> None:
    """Print the checkpoint verification keys (what auditors need), as JSON."""

    async def keys(service: AuditService) -> dict[str, Any]:
        return service.public_key()

    typer.echo(json.dumps(_run(config, keys), indent=2))


@app.command()
def shred(
    org_id: Annotated[str, typer.Argument(help="The organisation whose content becomes unreadable.")],
    config: ConfigOption = None,
    yes: Annotated[bool, typer.Option("--yes", help="Do not ask for confirmation.")] = False,
) -> None:
    """Crypto-shred an organisation's audit content (erasure): its data keys are destroyed."""
    if not yes:
        typer.confirm(f"Destroy every audit content key of {org_id!r}? This cannot be undone", abort=True)

    async def destroy(service: AuditService) -> int:
        if service.vault is None:
            err.print("[bold red]error[/] audit.content.master_key is not configured")
            raise typer.Exit(2)
        return await service.vault.shred(org_id)

    out.print(f"shredded {_run(config, destroy)} data key(s) of {org_id}")
