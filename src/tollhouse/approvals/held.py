"""One LLM call's held tool calls: asking the approvals service, and what the caller is told.

An approved call goes out as the model wrote it; a pending one (new, or still waiting)
makes the answer ``approval_required``, a denied or expired one ``approval_denied`` — both
403 in the surface's error format, with the approval id in the message and as
``approval_id`` in the error object. Each ruling is a decision in the call's audit record.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from tollhouse.approvals.tool_calls import Ruling, ToolCallApprovals, call_digest, canonical_arguments
from tollhouse.errors import ApprovalDenied, ApprovalRequired, GuardUnavailable, TollhouseError
from tollhouse.guards.view import Path
from tollhouse.pipeline.context import Decision, RequestContext

log = logging.getLogger("tollhouse.approvals")


@dataclass(frozen=True, slots=True)
class HeldCall:
    """A tool call a guard wants approved: its name, its arguments (as sent on) and why."""

    tool: str
    arguments: Any
    reason: str


def tool_call_at(body: Any, path: Path) -> tuple[Path, str, Any] | None:
    """The tool call a segment's ``path`` lies in (OpenAI chat ``tool_calls[]``, Responses
    ``function_call`` items, Anthropic ``tool_use`` blocks): its path, name and arguments."""
    node = body
    for depth, step in enumerate(path):
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            return None
        if not isinstance(node, dict):
            continue
        function = node.get("function")
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            return path[: depth + 1], function["name"], function.get("arguments")
        if isinstance(node.get("name"), str) and ("arguments" in node or "input" in node):
            return path[: depth + 1], node["name"], node.get("arguments", node.get("input"))
    return None


class CallApprovals:
    """The approvals of one call's tool calls (``ToolCallApprovals`` does the bookkeeping)."""

    def __init__(
        self, service: ToolCallApprovals, ctx: RequestContext, conversation: str, policy: str
    ) -> None:
        self._service = service
        self._ctx = ctx
        self._conversation = conversation
        self._policy = policy
        self._rows: list[dict[str, Any]] = []

    def digest(self, call: HeldCall) -> str:
        return call_digest(self._ctx, self._conversation, call.tool, canonical_arguments(call.arguments))

    def ask_now(self, call: HeldCall) -> TollhouseError | None:
        """None when the call is approved; else the caller's error (a new call is held).
        Synchronous: for streams, with decisions as last read (``poll_s``)."""
        digest = self.digest(call)
        ruling = self._service.ruling(digest)
        if ruling is None:
            arguments = canonical_arguments(call.arguments)
            ruling, row = self._service.hold(self._ctx, digest, call.tool, arguments, call.reason)
            self._rows.append(row)
        return self._outcome(ruling, call.tool)

    def hold_now(self, tool: str, arguments: str, reason: str) -> TollhouseError | None:
        """``ask_now`` for a streamed call (the ``guards.stream_window.Approver`` protocol)."""
        return self.ask_now(HeldCall(tool, arguments, reason))

    async def settle(self) -> None:
        """Store the calls held so far (before the caller hears their ids)."""
        rows, self._rows = self._rows, []
        await self._service.write(rows)

    async def ask(self, calls: list[HeldCall]) -> TollhouseError | None:
        """``ask_now`` for an answer in one piece, with decisions read from the database."""
        try:
            await self._service.refresh(sorted({self.digest(c) for c in calls}))
            errors = [e for e in (self.ask_now(c) for c in calls) if e is not None]
            await self.settle()
        except Exception:  # fail closed: an approval id nobody can find helps no one
            log.exception("tool-call approvals: the database could not be reached")
            return GuardUnavailable("approvals are unavailable; the tool call is withheld")
        if not errors:
            return None
        denied = [e for e in errors if isinstance(e, ApprovalDenied)]
        return denied[0] if denied else errors[0]

    def _outcome(self, ruling: Ruling, tool: str) -> TollhouseError | None:
        who = f" by {ruling.decided_by}" if ruling.decided_by else ""
        self._ctx.decisions.append(
            Decision(f"approval:{self._policy}", ruling.status, f"{tool} {ruling.approval_id}{who}")
        )
        details: dict[str, object] = {"approval_id": ruling.approval_id}
        if ruling.status == "approved":
            return None
        if ruling.status == "pending":
            return ApprovalRequired(
                f"the tool call {tool} needs approval: approval id {ruling.approval_id}; "
                "retry the same request once it is approved",
                details=details,
            )
        return ApprovalDenied(
            f"the tool call {tool} was not approved ({ruling.status}): approval id {ruling.approval_id}",
            details=details,
        )
