"""Admin changes made from the CLI (``tollhouse keys create`` …) into the audit trail.

A CLI command is a process of its own, so its changes form a short chain of their own:
``chain.start``, one ``admin.change`` per change, ``chain.close`` with a signed checkpoint.
The chain is opened only when the command has changed something, so read-only commands
leave no trace, and it is written when the command ends.
"""

from __future__ import annotations

from tollhouse.admin.events import AdminEvent
from tollhouse.audit.admin_changes import AdminChangeRecorder
from tollhouse.audit.trail import AuditTrail
from tollhouse.audit.wiring import build_trail, resolve_keys
from tollhouse.config.load import ConfigIssue
from tollhouse.config.schema import GatewayConfig
from tollhouse.identity.errors import IdentityError


class ChangesNotRecorded(IdentityError):
    """The changes were made, but the audit trail could not be written (the CLI reports it)."""

    status = 503
    code = "audit_unavailable"


class DeferredChanges:
    """An ``AdminEventSink`` for one CLI command: queues its changes, ``flush`` writes them."""

    def __init__(self, trail: AuditTrail) -> None:
        self._trail = trail
        self._recorder = AdminChangeRecorder(trail)
        self.pending = 0

    def emit(self, event: AdminEvent) -> None:
        self._recorder.emit(event)  # only queued: the writer is not running yet
        self.pending += 1

    async def flush(self) -> None:
        """Open a chain, write the queued changes into it and close it (nothing if none)."""
        if not self.pending:
            return
        try:
            await self._trail.start()
            await self._trail.stop()
        except Exception as exc:
            # The type only: a database error's text can carry connection details.
            raise ChangesNotRecorded(
                f"{self.pending} change(s) were made but not recorded in the audit trail "
                f"({type(exc).__name__})"
            ) from exc
        self.pending = 0


def cli_changes(config: GatewayConfig, issues: list[ConfigIssue]) -> DeferredChanges | None:
    """The sink for a CLI command's changes when the audit trail is on (problems to ``issues``)."""
    if not config.audit.enabled:
        return None
    # A command's few records need no spill file (nor may it take over the gateway's) and no
    # content retention sweep; export sinks still receive them.
    content = config.audit.content.model_copy(update={"retention_days": None})
    audit = config.audit.model_copy(update={"spill_path": None, "backpressure": "block", "content": content})
    own = config.model_copy(update={"audit": audit})
    keys = resolve_keys(own, issues, [])
    return DeferredChanges(build_trail(own, keys, issues, []))
