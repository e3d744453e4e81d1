"""The `audit:` config section: chain, durability, content, checkpoints and sinks.

It lives here rather than in ``config/schema.py`` so the audit area owns its settings;
``GatewayConfig`` holds one field for it.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tollhouse.config.secrets import SecretRef

Durability = Literal["strict", "async"]
ContentMode = Literal["full", "redacted", "digest"]
Backpressure = Literal["block", "fail", "spill", "drop"]


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("must start with http:// or https://")
    return value


class AuditCheckpoints(_Section):
    """Signed checkpoints of each chain's head, and where copies go (the witness)."""

    every: Annotated[int, Field(ge=1, description="Sign a checkpoint after this many records.")] = 1000
    interval_s: Annotated[
        float, Field(gt=0, description="…or after this many seconds with new records, whichever first.")
    ] = 30.0
    signing_key: Annotated[
        SecretRef | None,
        Field(description="Ed25519 private key (PEM or raw base64); `tollhouse audit keygen` makes one."),
    ] = None
    trusted_public_keys: Annotated[
        list[str],
        Field(description="Earlier public keys (base64) whose checkpoints still verify after a rotation."),
    ] = []
    witness_file: Annotated[
        str | None, Field(description="Append every signed checkpoint to this file (JSON lines).")
    ] = None
    witness_url: Annotated[
        str | None, Field(description="POST every signed checkpoint (JSON) to this URL.")
    ] = None

    @field_validator("witness_url")
    @classmethod
    def _url_ok(cls, value: str | None) -> str | None:
        return _http_url(value)


class AuditContent(_Section):
    """Prompts and completions: encrypted per organisation, referenced by digest from the chain."""

    mode: Annotated[
        ContentMode,
        Field(
            description="full: store content; redacted: store it with secrets/PII masked; digest: hashes only."
        ),
    ] = "digest"
    master_key: Annotated[
        SecretRef | None,
        Field(
            description="32-byte key (base64) wrapping each organisation's data key; needed unless digest."
        ),
    ] = None
    retention_days: Annotated[
        int | None, Field(ge=1, description="Shred content older than this; chained records are kept.")
    ] = None


class AuditSinks(_Section):
    """Copies of the events outside the chain database."""

    otlp_endpoint: Annotated[
        str | None,
        Field(description="OTLP/HTTP traces URL (…/v1/traces): GenAI spans for every LLM call."),
    ] = None
    siem_webhook: Annotated[
        str | None, Field(description="POST batches of events (JSON array) to this URL.")
    ] = None
    batch_size: Annotated[int, Field(ge=1, le=10_000)] = 256
    interval_s: Annotated[float, Field(gt=0)] = 2.0
    queue_size: Annotated[
        int, Field(ge=1, description="Events buffered per sink; beyond it the oldest are counted as dropped.")
    ] = 10_000

    @field_validator("otlp_endpoint", "siem_webhook")
    @classmethod
    def _urls_ok(cls, value: str | None) -> str | None:
        return _http_url(value)


class AuditConfig(_Section):
    """The tamper-evident audit trail. Off unless enabled."""

    enabled: bool = False
    mode: Annotated[
        Durability,
        Field(description="strict: records are durable before the call goes on; async: batched in memory."),
    ] = "async"
    database_url: Annotated[
        SecretRef | None, Field(description="Where the chains live; default: `database.url`.")
    ] = None
    replica_id: Annotated[
        str | None,
        Field(description="Names this replica's chains so a restart links to them; default: the hostname."),
    ] = None
    flush_interval_s: Annotated[
        float, Field(gt=0, le=60, description="Longest time an async record waits in memory.")
    ] = 0.5
    # 256 rather than thousands: at thousands of calls a second, batches of 2000 cost the
    # gateway about 5% more CPU per call than batches of 256 or 64 (bench, 64 connections)
    # while a commit of 256 rows still keeps a remote PostgreSQL's round trips rare.
    batch_max: Annotated[
        int,
        Field(
            ge=1,
            le=50_000,
            description="Most records in one commit while the writer keeps up (one that falls behind commits more at once to catch up).",
        ),
    ] = 256
    queue_size: Annotated[int, Field(ge=16, description="Records buffered before backpressure applies.")] = (
        50_000
    )
    backpressure: Annotated[
        Backpressure,
        Field(
            description="When the writer cannot keep up: block callers, fail them (503), spill to a file, or drop (counted and recorded)."
        ),
    ] = "block"
    block_timeout_s: Annotated[
        float, Field(gt=0, description="Longest a caller waits for room (block) or durability (strict).")
    ] = 10.0
    spill_path: Annotated[
        str | None, Field(description="File for records the writer could not take yet (backpressure: spill).")
    ] = None
    content: AuditContent = AuditContent()
    checkpoints: AuditCheckpoints = AuditCheckpoints()
    sinks: AuditSinks = AuditSinks()

    @model_validator(mode="after")
    def _consistent(self) -> AuditConfig:
        if self.backpressure == "spill" and not self.spill_path:
            raise ValueError("audit.backpressure: spill needs audit.spill_path")
        if (
            self.checkpoints.witness_file or self.checkpoints.witness_url
        ) and self.checkpoints.signing_key is None:
            raise ValueError("audit.checkpoints: a witness needs checkpoints, which need signing_key")
        if self.content.mode != "digest" and self.content.master_key is None:
            raise ValueError(f"audit.content.mode: {self.content.mode} needs audit.content.master_key")
        return self
