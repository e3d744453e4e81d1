"""A configured guard: a detector, where it looks (stages, scopes) and what its verdict does."""

from __future__ import annotations

from dataclasses import dataclass

from tollhouse.guards.detector import CallState, Detector
from tollhouse.guards.verdict import Action, Finding, Hit, Scope, Verdict
from tollhouse.guards.view import TextView
from tollhouse.guards.webhook import CallInfo, WebhookClient

INPUT_SCOPES = frozenset({Scope.SYSTEM, Scope.USER, Scope.ASSISTANT})
INDIRECT_SCOPES = frozenset({Scope.TOOL_OUTPUT, Scope.MCP_RESULT, Scope.A2A_PART})
# Which scopes of a view each stage reads: requests and tool results are input, answers,
# streams and tool-call arguments are output.
STAGE_SCOPES: dict[str, frozenset[Scope]] = {
    "request": INPUT_SCOPES,
    "tool_results": INDIRECT_SCOPES,
    "response": frozenset({Scope.ASSISTANT}),
    "stream": frozenset({Scope.ASSISTANT}),
    "tool_args": frozenset({Scope.TOOL_INPUT}),
}
ALL_SCOPES = frozenset(Scope)
# Where each kind of guard looks unless its config says otherwise.
DEFAULT_SCOPES: dict[str, frozenset[Scope]] = {
    "injection": frozenset({Scope.USER}) | INDIRECT_SCOPES,
    "pii": ALL_SCOPES - {Scope.SYSTEM},
    "secrets": ALL_SCOPES,
    "exfiltration": frozenset({Scope.ASSISTANT, Scope.TOOL_INPUT}) | INDIRECT_SCOPES,
    "canary": frozenset({Scope.ASSISTANT, Scope.TOOL_INPUT}),
    "keywords": ALL_SCOPES - {Scope.SYSTEM},
    "topics": ALL_SCOPES - {Scope.SYSTEM},
    "schema": frozenset({Scope.ASSISTANT}),
    "webhook": ALL_SCOPES,
}


@dataclass(frozen=True, slots=True)
class Guard:
    """``id`` names it in verdicts; ``fail_open`` decides what an error in it means."""

    id: str
    kind: str  # the guard type: injection, pii, …
    detector: Detector
    action: Action
    stages: frozenset[str]
    scopes: frozenset[Scope]
    fail_open: bool
    offload: bool = False  # slow (a model): run in a worker thread, off the event loop

    def scopes_for(self, stage: str) -> frozenset[Scope]:
        """The scopes this guard reads at ``stage`` (empty: it does not run there)."""
        if stage not in self.stages:
            return frozenset()
        return STAGE_SCOPES[stage] & self.scopes

    def findings(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        return self.detector.detect(text, scope, state)

    def check(self, view: TextView, state: CallState) -> Verdict:
        """The verdict on the segments of ``view`` (already narrowed to this stage's scopes)."""
        hits = [
            Hit(i, finding)
            for i, segment in enumerate(view.segments)
            if segment.scope in self.scopes
            for finding in self.detector.detect(segment.text, segment.scope, state)
        ]
        return verdict_of(self.id, self.action, hits)


@dataclass(frozen=True, slots=True)
class RemoteGuard:
    """A guard whose verdict comes from a webhook (awaited, under its own timeout)."""

    id: str
    kind: str
    client: WebhookClient
    action: Action
    stages: frozenset[str]
    scopes: frozenset[Scope]
    fail_open: bool

    def scopes_for(self, stage: str) -> frozenset[Scope]:
        if stage not in self.stages:
            return frozenset()
        return STAGE_SCOPES[stage] & self.scopes

    async def check(self, stage: str, view: TextView, info: CallInfo) -> Verdict:
        return await self.client.check(self.id, stage, view, info, self.action is Action.FLAG)


AnyGuard = Guard | RemoteGuard


def verdict_of(guard: str, action: Action, hits: list[Hit]) -> Verdict:
    """``action`` when anything was found, else allow; the reason lists the kinds found."""
    if not hits:
        return Verdict(guard, Action.ALLOW)
    kinds = sorted({h.finding.kind for h in hits})
    return Verdict(guard, action, ",".join(kinds), max(h.finding.score for h in hits), tuple(hits))
