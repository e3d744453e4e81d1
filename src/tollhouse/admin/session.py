"""Opening the admin services from a config file, for the CLI (the API gets them at start)."""

from __future__ import annotations

import getpass
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from tollhouse.admin.events import RecentEvents
from tollhouse.admin.services import AdminServices
from tollhouse.audit.cli_changes import cli_changes
from tollhouse.config.load import ConfigError, ConfigIssue
from tollhouse.config.schema import GatewayConfig
from tollhouse.identity.change_feed import ChangeFeed
from tollhouse.identity.wiring import build_vault
from tollhouse.storage.engine import create_engine
from tollhouse.storage.migrate import upgrade


def cli_actor() -> str:
    """Who the admin events name for a CLI change: the operating-system user."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli:unknown"


@asynccontextmanager
async def admin_session(config: GatewayConfig, source: str = "<config>") -> AsyncIterator[AdminServices]:
    """Services over the configured database; changes are announced on Redis when configured,
    and written into the audit trail when it is on (as this command's own chain, at the end)."""
    issues: list[ConfigIssue] = []
    vault = build_vault(config, issues, [])
    changes = cli_changes(config, issues)
    if issues:
        raise ConfigError(source, issues)
    url = config.database.url.resolve().reveal()
    redis = config.redis.url.resolve().reveal() if config.redis.url else None
    engine = create_engine(url)
    feed = ChangeFeed(redis, listen=False)
    try:
        if config.database.migrate_on_start:
            await upgrade(engine)
        await feed.start()
        policies = [(p.id, p.text) for p in config.authorization.policies]
        sink = RecentEvents(forward=(changes,) if changes else ())
        yield AdminServices(engine, sink, feed, vault, policies, config.authorization.users_default)
    finally:
        await feed.stop()
        await engine.dispose()
        if changes is not None:
            await changes.flush()
