"""Running one admin operation from the CLI: load the config, open the services, report errors."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console

from tollhouse.admin.services import AdminServices
from tollhouse.admin.session import admin_session
from tollhouse.config.load import ConfigError
from tollhouse.config.secrets import SecretError
from tollhouse.identity.errors import IdentityError

T = TypeVar("T")
err = Console(stderr=True)
out = Console()

ConfigOption = Annotated[
    Path | None, typer.Option("--config", "-c", help="YAML config; default: the built-in demo.")
]


def run_admin(config: Path | None, work: Callable[[AdminServices], Awaitable[T]]) -> T:
    """``work(services)`` against the configured database; exits 1 with a message on failure."""
    from tollhouse.http.factory import load

    async def go() -> T:
        cfg, source = load(config)
        async with admin_session(cfg, source) as services:
            return await work(services)

    try:
        return asyncio.run(go())
    except ConfigError as exc:
        err.print(f"[bold red]invalid config[/] {exc}", highlight=False)
    except (IdentityError, SecretError) as exc:
        err.print(f"[bold red]error[/] {getattr(exc, 'message', exc)}", highlight=False)
    raise typer.Exit(1)
