"""`tollhouse serve | config check | config schema` — a thin mapping onto the config."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from tollhouse.cli import agents as agents_cli
from tollhouse.cli import approvals as approvals_cli
from tollhouse.cli import credentials as credentials_cli
from tollhouse.cli import keys as keys_cli
from tollhouse.cli import mcp as mcp_cli
from tollhouse.cli import policy as policy_cli
from tollhouse.cli import sessions as sessions_cli
from tollhouse.cli import spend as spend_cli
from tollhouse.cli import teams as teams_cli
from tollhouse.cli.audit import app as audit_app
from tollhouse.config.compile import compile_config
from tollhouse.config.load import ConfigError, load_config
from tollhouse.config.schema import GatewayConfig

app = typer.Typer(
    help="Tollhouse: an AI gateway and security checkpoint for agent traffic.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
)
config_app = typer.Typer(help="Check a config file or print its schema.", no_args_is_help=True)
app.add_typer(config_app, name="config")
db_app = typer.Typer(help="Database schema management.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(audit_app, name="audit")
app.add_typer(teams_cli.app, name="teams")
app.add_typer(agents_cli.app, name="agents")
app.add_typer(keys_cli.app, name="keys")
app.add_typer(credentials_cli.app, name="credentials")
app.add_typer(mcp_cli.app, name="mcp")
app.add_typer(approvals_cli.app, name="approvals")
app.add_typer(policy_cli.app, name="policy")
app.add_typer(sessions_cli.app, name="sessions")
app.add_typer(spend_cli.app, name="spend")
err = Console(stderr=True)
out = Console()


def _print_config_error(exc: ConfigError) -> None:
    err.print(f"[bold red]invalid config[/] {exc.source}")
    for issue in exc.issues:
        where = f"{exc.source}:{issue.line}:{issue.column}" if issue.line else exc.source
        err.print(f"  [cyan]{where}[/] [bold]{issue.path or '<root>'}[/]: {issue.message}", highlight=False)


@app.command()
def serve(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML config; default: the built-in demo.")
    ] = None,
    host: Annotated[str | None, typer.Option(help="Listen address (overrides server.host).")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port (overrides server.port).")] = None,
    workers: Annotated[
        int | None, typer.Option(help="Worker processes on one port (overrides server.workers).")
    ] = None,
) -> None:
    """Serve the gateway."""
    import uvicorn

    from tollhouse.http.factory import CONFIG_ENV, load

    try:
        cfg, source = load(config)
        compile_config(cfg, source)  # fail here, once, with a readable error, not in N workers
    except ConfigError as exc:
        _print_config_error(exc)
        raise typer.Exit(1) from None
    server = cfg.server
    n = workers or server.workers
    if config is not None:
        os.environ[CONFIG_ENV] = str(config.resolve())
    else:
        os.environ.pop(CONFIG_ENV, None)
    metrics_dir = None
    if n > 1:
        # Workers share metrics through files in this directory (prometheus multiprocess mode).
        metrics_dir = tempfile.mkdtemp(prefix="tollhouse-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = metrics_dir
    bind_host, bind_port = host or server.host, port or server.port
    err.print(
        f"Tollhouse serving {source} on http://{bind_host}:{bind_port}/v1 ({n} worker{'s' if n > 1 else ''})"
    )
    try:
        uvicorn.run(
            "tollhouse.http.factory:app_from_env",
            factory=True,
            host=bind_host,
            port=bind_port,
            workers=n,
            loop="uvloop",
            http="httptools",
            lifespan="on",
            proxy_headers=False,  # X-Forwarded-* rewriting costs every request; not used
            # No `server: uvicorn` on every answer: it tells a scanner the stack, and uvicorn
            # checks every header it sends with two regular expressions.
            server_header=False,
            access_log=server.access_log,
            log_level=cfg.logging.level,
            timeout_graceful_shutdown=10,
            # A worker starting on a busy host may take seconds to import; uvicorn's default 5 s
            # health check would kill it mid-start and respawn it in a loop.
            timeout_worker_healthcheck=30,
        )
    finally:
        if metrics_dir:
            shutil.rmtree(metrics_dir, ignore_errors=True)


@config_app.command("check")
def config_check(path: Annotated[Path, typer.Argument(help="The YAML config file.")]) -> None:
    """Validate a config file, naming the line and column of every problem."""
    try:
        cfg = load_config(path)
        compile_config(cfg, str(path))
    except ConfigError as exc:
        _print_config_error(exc)
        raise typer.Exit(1) from None
    out.print(f"[green]ok[/] {path}: {len(cfg.models)} model aliases, {len(cfg.providers)} providers")


@config_app.command("schema")
def config_schema() -> None:
    """Print the JSON Schema of the config file."""
    typer.echo(json.dumps(GatewayConfig.model_json_schema(), indent=2))


@db_app.command("upgrade")
def db_upgrade(
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="YAML config; default: the built-in demo.")
    ] = None,
) -> None:
    """Apply pending migrations to the configured database."""
    import asyncio

    from tollhouse.http.factory import load
    from tollhouse.storage.engine import create_engine
    from tollhouse.storage.migrate import upgrade

    try:
        cfg, _source = load(config)
        url = cfg.database.url.resolve().reveal()
    except (ConfigError, ValueError) as exc:
        err.print(f"[bold red]error[/] {exc}")
        raise typer.Exit(1) from None

    async def run() -> None:
        engine = create_engine(url)
        try:
            await upgrade(engine)
        finally:
            await engine.dispose()

    asyncio.run(run())
    out.print(f"[green]ok[/] database at {cfg.database.url.source} is up to date")


if __name__ == "__main__":  # pragma: no cover
    app()
