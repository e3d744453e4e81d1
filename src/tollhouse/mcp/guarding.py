"""Guardrails on MCP traffic: the ``guardrails:`` policies, at the stages they name.

``tool_args`` reads a call's arguments (scope ``tool_input``: secrets, PII, exfiltration
URLs); ``tool_results`` reads what comes back — tool results, prompts, resource contents
(scope ``mcp_result``: indirect prompt injection, secrets). A policy applies when its
``match`` fits the caller (``surfaces`` empty or holding ``mcp``; principals, teams, agents,
tags). Verdicts act as they do on LLM traffic:

    block              arguments: the call is refused; a result: replaced by an ``isError`` result
    redact             the text is masked in place (arguments before the upstream sees them)
    flag               recorded only
    require_approval   the call waits for a human decision (see ``approvals``)

Failed guards follow the policy's ``on_error``; a guard that did not run is never a pass.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

from tollhouse.audit.events import Verdict as AuditVerdict
from tollhouse.guards.detector import CallState
from tollhouse.guards.guard import AnyGuard
from tollhouse.guards.redaction import redact
from tollhouse.guards.run import Ran, run_stage
from tollhouse.guards.verdict import Action, Finding, Scope
from tollhouse.guards.view import Path, Segment, TextView, write
from tollhouse.guards.webhook import CallInfo
from tollhouse.mcp.call import Caller, McpCall
from tollhouse.mcp.catalog import Definition
from tollhouse.mcp.protocol import BLOCKED, RpcError

_MAX_DEPTH = 32


@dataclass(frozen=True, slots=True)
class GuardPolicy:
    """One guardrail policy as MCP traffic uses it: its guards and whom it covers."""

    name: str
    guards: tuple[AnyGuard, ...]
    dry_run: bool
    principals: frozenset[str]
    teams: frozenset[str]
    agents: frozenset[str]
    tags: frozenset[str]
    max_scan_chars: int | None = None  # the policy's: guards read at most this many characters

    def applies(self, caller: Caller) -> bool:
        p = caller.principal
        if self.principals and (p is None or p.id not in self.principals):
            return False
        if self.teams and (p is None or p.team_id not in self.teams):
            return False
        if self.agents and caller.agent not in self.agents:
            return False
        return not (self.tags and (p is None or not set(p.tags) & self.tags))


def strings(value: Any, path: Path, scope: Scope, depth: int = 0) -> list[Segment]:
    """Every non-empty string under ``value`` as a segment (its path leads back to it)."""
    if isinstance(value, str):
        return [Segment(scope, value, path)] if value else []
    if depth >= _MAX_DEPTH:
        return []
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in strings(v, (*path, k), scope, depth + 1)]
    if isinstance(value, list):
        return [s for i, v in enumerate(value) for s in strings(v, (*path, i), scope, depth + 1)]
    return []


def result_view(result: dict[str, Any]) -> TextView:
    """The texts of a tool result, prompt or resource read that reach the model."""
    segments: list[Segment] = []
    for i, block in enumerate(result.get("content") or ()):
        if isinstance(block, dict):
            segments += _block(block, ("content", i))
    if isinstance(result.get("structuredContent"), dict):
        segments += strings(result["structuredContent"], ("structuredContent",), Scope.MCP_RESULT)
    for i, item in enumerate(result.get("contents") or ()):  # resources/read
        if isinstance(item, dict) and isinstance(item.get("text"), str) and item["text"]:
            segments.append(Segment(Scope.MCP_RESULT, item["text"], ("contents", i, "text")))
    for i, message in enumerate(result.get("messages") or ()):  # prompts/get
        if isinstance(message, dict) and isinstance(message.get("content"), dict):
            segments += _block(message["content"], ("messages", i, "content"))
    return TextView(tuple(segments))


def _block(block: dict[str, Any], path: Path) -> list[Segment]:
    if block.get("type") == "text" and isinstance(block.get("text"), str) and block["text"]:
        return [Segment(Scope.MCP_RESULT, block["text"], (*path, "text"))]
    resource = block.get("resource")
    if (
        block.get("type") == "resource"
        and isinstance(resource, dict)
        and isinstance(resource.get("text"), str)
    ):
        return [Segment(Scope.MCP_RESULT, resource["text"], (*path, "resource", "text"))]
    return []


class ToolGuards:
    """The guardrail policies covering MCP, run over arguments and results."""

    def __init__(self, policies: tuple[GuardPolicy, ...]) -> None:
        self._policies = policies

    async def check_args(
        self, caller: Caller, call: McpCall, item: Definition, args: dict[str, Any]
    ) -> dict[str, Any]:
        """The arguments to send (redacted where a guard said so), or a refusal."""
        view = TextView(tuple(strings(args, (), Scope.TOOL_INPUT)))
        if not view.segments:
            return args
        out = {"arguments": copy.deepcopy(args)}
        shifted = TextView(tuple(Segment(s.scope, s.text, ("arguments", *s.path)) for s in view.segments))
        blocked = await self._stage(caller, call, item, "tool_args", shifted, out)
        if blocked is not None:
            raise RpcError(BLOCKED, f"the tool call was blocked by guard {blocked}")
        return out["arguments"]

    async def check_result(
        self, caller: Caller, call: McpCall, item: Definition, result: dict[str, Any]
    ) -> dict[str, Any]:
        """The result to return (redacted), or an ``isError`` result when a guard blocks it."""
        view = result_view(result)
        if not view.segments:
            return result
        out = copy.deepcopy(result)
        blocked = await self._stage(caller, call, item, "tool_results", view, out)
        if blocked is None:
            return out
        text = f"The gateway withheld this {item.kind} result: guard {blocked} blocked it."
        return {"content": [{"type": "text", "text": text}], "isError": True}

    async def _stage(
        self,
        caller: Caller,
        call: McpCall,
        item: Definition,
        stage: str,
        view: TextView,
        payload: dict[str, Any],
    ) -> str | None:
        """Run the stage; write redactions into ``payload``; the blocking guard's name, if any."""
        p = caller.principal
        info = CallInfo(caller.ctx.request_id, f"{item.server}/{item.key}",
                        {"kind": p.kind, "id": p.id, "team": p.team_id} if p else None)  # fmt: skip
        state = CallState()
        for policy in self._policies:
            if not policy.applies(caller):
                continue
            ran = await run_stage(policy.guards, stage, view, state, info, policy.max_scan_chars)
            blocked = self._settle(policy, call, stage, ran, payload, state)
            if blocked is not None:
                return blocked
        return None

    def _settle(
        self,
        policy: GuardPolicy,
        call: McpCall,
        stage: str,
        ran: list[Ran],
        payload: dict[str, Any],
        state: CallState,
    ) -> str | None:
        redactions: dict[Path, tuple[str, list[Finding]]] = {}
        blocked: str | None = None
        for r in ran:
            name = f"{policy.name}/{r.guard.id}"
            if r.verdict is None:
                call.verdicts.append(AuditVerdict(f"guard:{name}", "error", f"{stage}:{r.error}", r.guard.id))
                if not r.guard.fail_open and not policy.dry_run and blocked is None:
                    blocked = name
                continue
            v = r.verdict
            if v.action is Action.ALLOW:
                continue
            outcome = "flag" if policy.dry_run else v.action.value
            call.verdicts.append(AuditVerdict(f"guard:{name}", outcome, f"{stage}:{v.reason}", r.guard.id))
            if policy.dry_run or v.action is Action.FLAG:
                continue
            if v.action is Action.REDACT:
                for hit in v.hits:
                    segment = r.view.segments[hit.segment]
                    text, found = redactions.get(segment.path, (segment.text, []))
                    redactions[segment.path] = (text, [*found, hit.finding])
            elif v.action is Action.REQUIRE_APPROVAL and stage == "tool_args":
                call.detail["approval_required_by"] = name
            elif blocked is None:
                blocked = name
        if blocked is None:
            for path, (text, findings) in redactions.items():
                write(payload, path, redact(text, findings, state, reversible=False))
        return blocked
