"""Building the audit trail from the config: policies and the observer at compile time, the
database, writer, vault, checkpoints and sinks when the app starts.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import logging
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tollhouse.audit.admin_changes import AdminAudit, AdminChangeRecorder
from tollhouse.audit.capture import ContentPolicy
from tollhouse.audit.checkpoint import Checkpointer, FileWitness, WebhookWitness, Witness
from tollhouse.audit.lifecycle import WriterIdentity
from tollhouse.audit.queue import AuditQueue
from tollhouse.audit.redaction import ContentRedactor
from tollhouse.audit.retention import retention_loop
from tollhouse.audit.service import AuditService
from tollhouse.audit.settings import AuditConfig
from tollhouse.audit.signing import KeyFormatError, Signer, load_private_key, load_public_key
from tollhouse.audit.sinks.batching import BatchingSink
from tollhouse.audit.sinks.siem import SiemSink
from tollhouse.audit.spill import SpillFile
from tollhouse.audit.store import ChainStore
from tollhouse.audit.trail import AuditTrail
from tollhouse.audit.vault import ContentVault, load_master_key
from tollhouse.audit.writer import ChainWriter
from tollhouse.config.load import ConfigError, ConfigIssue
from tollhouse.config.schema import GatewayConfig
from tollhouse.config.secrets import Secret, SecretError, SecretRef
from tollhouse.pipeline.policy import Policy
from tollhouse.policies.audit import AuditRecord, AuditResponseRecord
from tollhouse.storage.engine import create_engine
from tollhouse.storage.migrate import pending, upgrade

log = logging.getLogger("tollhouse.audit")


@dataclass(frozen=True, slots=True)
class AuditParts:
    """What the audit trail adds to the runtime."""

    policies: tuple[Policy, ...] = ()
    trail: AuditTrail | None = None
    admin: AdminAudit | None = None  # for the admin API, when it is enabled


@dataclass(frozen=True, slots=True)
class AuditKeys:
    """The resolved secrets of the audit section."""

    database_url: str
    signer: Signer | None
    master_key: bytes | None


def _secret(ref: SecretRef | None, path: str, issues: list[ConfigIssue], secrets: list[Secret]) -> str | None:
    if ref is None:
        return None
    try:
        secret = ref.resolve()
    except SecretError as exc:
        issues.append(ConfigIssue(path, str(exc)))
        return None
    secrets.append(secret)
    return secret.reveal()


def resolve_keys(config: GatewayConfig, issues: list[ConfigIssue], secrets: list[Secret]) -> AuditKeys:
    """Resolve and parse the audit secrets, adding a config issue for each one that is wrong."""
    audit = config.audit
    url = _secret(audit.database_url or config.database.url, "audit.database_url", issues, secrets) or ""
    signer = master = None
    pem = _secret(audit.checkpoints.signing_key, "audit.checkpoints.signing_key", issues, secrets)
    if pem is not None:
        try:
            signer = Signer(load_private_key(pem))
        except (KeyFormatError, ValueError) as exc:
            issues.append(ConfigIssue("audit.checkpoints.signing_key", str(exc)))
    raw = _secret(audit.content.master_key, "audit.content.master_key", issues, secrets)
    if raw is not None:
        try:
            master = load_master_key(raw)
        except ValueError as exc:
            issues.append(ConfigIssue("audit.content.master_key", str(exc)))
    return AuditKeys(url, signer, master)


def build_trail(
    config: GatewayConfig, keys: AuditKeys, issues: list[ConfigIssue], secrets: list[Secret]
) -> AuditTrail:
    """The process's trail (started later, with the app). No I/O."""
    audit = config.audit
    if audit.sinks.otlp_endpoint and importlib.util.find_spec("opentelemetry.proto") is None:
        issues.append(
            ConfigIssue(
                "audit.sinks.otlp_endpoint", "needs opentelemetry-proto: pip install 'tollhouse[otel]'"
            )
        )
    # The list, not a snapshot of it: sections compiled after this one add their secrets too.
    redactor = ContentRedactor(secrets) if audit.content.mode == "redacted" else None
    spill = SpillFile(audit.spill_path) if audit.spill_path else None
    queue = AuditQueue(audit.queue_size, audit.backpressure, audit.block_timeout_s, spill, audit.batch_max)
    opener = DatabaseOpener(audit, keys, config.database.migrate_on_start, spill)
    return AuditTrail(audit, ContentPolicy(audit.content.mode, redactor), queue, opener)


def compile_audit(config: GatewayConfig, issues: list[ConfigIssue], secrets: list[Secret]) -> AuditParts:
    """The audit policies and trail for ``config`` (nothing when audit is off). No I/O."""
    if not config.audit.enabled:
        return AuditParts()
    known = len(issues)
    keys = resolve_keys(config, issues, secrets)
    trail = build_trail(config, keys, issues, secrets)
    policies: tuple[Policy, ...] = (AuditRecord(trail),)
    if trail.strict:
        policies += (AuditResponseRecord(trail),)
    admin = None
    if config.admin.enabled and len(issues) == known:
        service = _read_service(config, keys, issues)
        admin = AdminAudit(AdminChangeRecorder(trail), service) if service else None
    return AuditParts(policies, trail, admin)


def _trusted_keys(
    config: GatewayConfig, keys: AuditKeys, issues: list[ConfigIssue]
) -> list[Ed25519PublicKey]:
    """The keys checkpoints are verified with: the signing key's public half, and the trusted ones."""
    public = [keys.signer.public_key] if keys.signer else []
    for i, text in enumerate(config.audit.checkpoints.trusted_public_keys):
        try:
            public.append(load_public_key(text))
        except KeyFormatError as exc:
            issues.append(ConfigIssue(f"audit.checkpoints.trusted_public_keys.{i}", str(exc)))
    return public


def _read_service(config: GatewayConfig, keys: AuditKeys, issues: list[ConfigIssue]) -> AuditService | None:
    """An ``AuditService`` over the audit database (no I/O until it is used), or None with issues."""
    known = len(issues)
    public = _trusted_keys(config, keys, issues)
    if len(issues) > known:
        return None
    try:
        engine = create_engine(keys.database_url, pool_size=2)
    except (ValueError, SQLAlchemyError) as exc:
        issues.append(
            ConfigIssue("audit.database_url", f"cannot use this database URL: {type(exc).__name__}")
        )
        return None
    vault = ContentVault(engine, keys.master_key) if keys.master_key else None
    return AuditService(engine, public, vault)


async def migrate(engine: AsyncEngine) -> None:
    """Apply pending migrations; another worker doing the same at the same time is not an error."""
    for attempt in range(5):
        try:
            await upgrade(engine)
            return
        except Exception:
            await asyncio.sleep(0.2 * (attempt + 1))
            if not await pending(engine):
                return
    await upgrade(engine)


class DatabaseOpener:
    """Opens the audit database and everything writing to it, at app startup."""

    def __init__(
        self, settings: AuditConfig, keys: AuditKeys, migrate_on_start: bool, spill: SpillFile | None
    ) -> None:
        self._settings = settings
        self._keys = keys
        self._migrate = migrate_on_start
        self._spill = spill
        self.engine: AsyncEngine | None = None
        self.sinks: list[BatchingSink] = []
        self._tasks: list[asyncio.Task[None]] = []

    async def open(self, queue: AuditQueue) -> ChainWriter:
        settings = self._settings
        self.engine = engine = create_engine(self._keys.database_url, pool_size=4)
        if self._migrate:
            await migrate(engine)
        me = WriterIdentity.current(settings.replica_id)
        self.sinks = self._sinks(me)
        for sink in self.sinks:
            await sink.start()
        writer = ChainWriter(
            ChainStore(engine),
            queue,
            me,
            batch_max=settings.batch_max,
            flush_interval_s=settings.flush_interval_s,
            vault=ContentVault(engine, self._keys.master_key) if self._keys.master_key else None,
            checkpointer=self._checkpointer(),
            listeners=self.sinks,
        )
        await writer.start()
        if self._spill is not None:
            queue.requeue(await self._spill.replay())  # what an earlier process could not write
            self._tasks.append(asyncio.create_task(self._spill.run(queue)))
        if settings.content.retention_days:
            self._tasks.append(asyncio.create_task(retention_loop(engine, settings.content.retention_days)))
        return writer

    def _checkpointer(self) -> Checkpointer | None:
        signer, cp = self._keys.signer, self._settings.checkpoints
        if signer is None:
            return None
        witnesses: list[Witness] = []
        if cp.witness_file:
            witnesses.append(FileWitness(cp.witness_file))
        if cp.witness_url:
            witnesses.append(WebhookWitness(cp.witness_url))
        return Checkpointer(signer, cp.every, cp.interval_s, witnesses)

    def _sinks(self, me: WriterIdentity) -> list[BatchingSink]:
        s = self._settings.sinks
        sinks: list[BatchingSink] = []
        if s.otlp_endpoint:
            from tollhouse.audit.sinks.otlp import OtlpSink  # protobuf loads only when exporting

            sinks.append(OtlpSink(s.otlp_endpoint, s.batch_size, s.interval_s, s.queue_size, me.chain_id))
        if s.siem_webhook:
            sinks.append(SiemSink(s.siem_webhook, s.batch_size, s.interval_s, s.queue_size))
        return sinks

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self._spill is not None:
            await self._spill.flush()
        for sink in self.sinks:
            await sink.stop()
        if self.engine is not None:
            await self.engine.dispose()


def open_service(config: GatewayConfig, source: str = "<config>") -> AuditService:
    """An ``AuditService`` over the configured audit database (CLI, admin API).

    It trusts the signing key's public half and ``checkpoints.trusted_public_keys``, and can
    decrypt content when the content master key is configured.
    """
    issues: list[ConfigIssue] = []
    keys = resolve_keys(config, issues, [])
    service = None if issues else _read_service(config, keys, issues)
    if service is None:
        raise ConfigError(source, issues)
    return service
