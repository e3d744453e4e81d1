"""The guardrail policy: runs a configured set of guards over requests, answers and streams.

``enter`` (INSPECT_REQUEST) checks the prompt and the tool results it carries, redacts them
(placeholders the answer gets back), plants a canary, and gives a streamed call its stream
window; ``on_response`` checks a JSON answer and its tool calls and restores placeholders;
``exit`` reports what a stream's guards saw if the stream broke off. Every guard that ran is
in ``ctx.verdicts`` (and, unless it allowed, in ``ctx.decisions`` as ``guard:<policy>/<id>``);
in dry-run mode every verdict is recorded and none enforced. A tool call a
``require_approval`` guard holds goes to the approvals service (``approvals.held``), when
the gateway has one; without one it is refused with ``approval_required``.
"""

from __future__ import annotations

import fnmatch
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import orjson

from tollhouse.approvals.held import CallApprovals, HeldCall, tool_call_at
from tollhouse.approvals.tool_calls import ToolCallApprovals, conversation_digest
from tollhouse.config.load import ConfigIssue
from tollhouse.config.secrets import Secret
from tollhouse.errors import ApprovalRequired, GuardBlocked, GuardUnavailable, PayloadTooLarge, TollhouseError
from tollhouse.guards.build import build_guards
from tollhouse.guards.config import GuardrailPolicyConfig, GuardrailsConfig
from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.canary import canary_line, new_canary
from tollhouse.guards.guard import AnyGuard, Guard
from tollhouse.guards.plant import plant_system_line
from tollhouse.guards.redaction import redact, restore
from tollhouse.guards.run import Ran, run_stage
from tollhouse.guards.stream_items import StreamInspector
from tollhouse.guards.stream_window import GuardTally, StreamWindow
from tollhouse.guards.verdict import Action, Finding, Hit
from tollhouse.guards.view import Path, request_view, response_view, write
from tollhouse.guards.webhook import CallInfo
from tollhouse.model.stream import StreamEvent
from tollhouse.pipeline.context import Decision, GuardVerdict, RequestContext
from tollhouse.pipeline.outcome import Deny, Outcome
from tollhouse.pipeline.phases import CallKind, Phase
from tollhouse.pipeline.policy import Policy
from tollhouse.upstream.pool import UpstreamPool

_SCHEMA_SURFACES = frozenset({"chat", "responses"})


@dataclass(slots=True)
class _Call:
    state: CallState
    window: StreamWindow | None = None
    approval: CallApprovals | None = None


_Held = dict[Path, tuple[str, list[str]]]  # tool call path → its name, why guards hold it


def _schema(surface: str, payload: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON schema the caller asked the answer to meet, if any."""
    if surface == "chat":
        fmt = payload.get("response_format")
        spec = fmt.get("json_schema") if isinstance(fmt, dict) else None
    elif surface == "responses":
        text = payload.get("text")
        spec = text.get("format") if isinstance(text, dict) else None
    else:
        return None
    schema = spec.get("schema") if isinstance(spec, dict) else None
    return schema if isinstance(schema, dict) else None


class GuardrailPolicy(Policy):
    """One ``guardrails.policies`` entry (see the module docstring)."""

    name = "guardrails"
    phase = Phase.INSPECT_REQUEST
    kinds = frozenset({CallKind.LLM})

    def __init__(
        self,
        config: GuardrailPolicyConfig,
        guards: tuple[AnyGuard, ...],
        approvals: ToolCallApprovals | None = None,
    ) -> None:
        self.policy = config.name
        self._config = config
        self._match = config.match
        self._guards = guards
        self._dry = config.dry_run
        local = tuple(g for g in guards if isinstance(g, Guard))
        self._stream_text = tuple(g for g in local if g.scopes_for("stream"))
        self._stream_tools = tuple(g for g in local if g.scopes_for("tool_args"))
        # Webhooks cannot judge a stream piece by piece: on streams they are recorded as not run.
        self._stream_remote = tuple(
            g
            for g in guards
            if not isinstance(g, Guard) and (g.scopes_for("stream") or g.scopes_for("tool_args"))
        )
        self._calls: dict[int, _Call] = {}
        holds = any(g.action is Action.REQUIRE_APPROVAL and g.scopes_for("tool_args") for g in guards)
        self._approvals = approvals if holds and not self._dry else None
        self._canary = config.canary and any(g.kind == "canary" for g in guards)
        # What the guards read at each request stage: a stage with no such text is skipped.
        self._reads = {
            stage: frozenset().union(*(g.scopes_for(stage) for g in guards))
            for stage in ("request", "tool_results")
        }

    # ------------------------------------------------------------------ hooks

    def applies(self, ctx: RequestContext) -> bool:
        """Whether this policy covers the call (``match``: every list set must match)."""
        m, p = self._match, ctx.principal
        if m.surfaces and ctx.surface not in m.surfaces:
            return False
        if m.models and not any(fnmatch.fnmatchcase(ctx.model, pattern) for pattern in m.models):
            return False
        if m.principals and (p is None or p.id not in m.principals):
            return False
        if m.teams and (p is None or p.team_id not in m.teams):
            return False
        if m.agents and (p is None or p.kind != "agent" or p.id not in m.agents):
            return False
        return not (m.tags and (p is None or not set(p.tags) & set(m.tags)))

    @property
    def guards(self) -> tuple[AnyGuard, ...]:
        """The policy's guards, in the order they run."""
        return self._guards

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        if not self.applies(ctx):
            return None
        state = CallState(schema=_schema(ctx.surface, ctx.payload))
        call = self._calls[id(ctx)] = _Call(state)
        if self._approvals is not None:  # the conversation as sent, before guards change it
            conversation = conversation_digest(ctx.payload)
            call.approval = CallApprovals(self._approvals, ctx, conversation, self.policy)
        view = request_view(ctx.surface, ctx.payload)
        if view.segments:
            info = self._info(ctx)
            for stage in ("request", "tool_results"):
                reads = self._reads[stage]
                if not any(segment.scope in reads for segment in view.segments):
                    continue
                ran = await run_stage(self._guards, stage, view, state, info, self._config.max_scan_chars)
                outcome = self._settle(ctx, stage, ran, ctx.payload, reversible=True)
                if isinstance(outcome, Deny):
                    return outcome
                if outcome:
                    ctx.payload_changed()
                    view = request_view(ctx.surface, ctx.payload)
        if self._canary:
            state.canary = new_canary()
            if plant_system_line(ctx.surface, ctx.payload, canary_line(state.canary)):
                ctx.payload_changed()
        if ctx.stream:
            call.window = self._window(ctx, state)
        return None

    async def on_response(self, ctx: RequestContext) -> Outcome | None:
        call = self._calls.get(id(ctx))
        if call is None or ctx.stream or ctx.response_body is None:
            return None
        try:
            body = orjson.loads(ctx.response_body)
        except orjson.JSONDecodeError:
            return None
        if not isinstance(body, dict):
            return None
        view = response_view(ctx.surface, body)
        if not view.segments:
            return None
        changed = False
        info = self._info(ctx)
        for stage in ("response", "tool_args"):
            ran = await run_stage(self._guards, stage, view, call.state, info, self._config.max_scan_chars)
            held: _Held | None = {} if call.approval is not None else None
            outcome = self._settle(ctx, stage, ran, body, reversible=False, held=held)
            if isinstance(outcome, Deny):
                return outcome
            if held and call.approval is not None:
                refusal = await call.approval.ask(_held_calls(body, held))
                if refusal is not None:
                    return Deny(refusal, f"guard_{refusal.code}", f"guardrail:{self.policy}")
            changed = changed or outcome
        if self._config.restore_redactions and call.state.placeholders:
            for segment in response_view(ctx.surface, body).segments:
                restored = restore(segment.text, call.state)
                if restored != segment.text:
                    write(body, segment.path, restored)
                    changed = True
        if changed:
            ctx.response_body = orjson.dumps(body)
        return None

    async def exit(self, ctx: RequestContext) -> None:
        call = self._calls.pop(id(ctx), None)
        if call is not None and call.window is not None:
            call.window.close()

    # ------------------------------------------------------------------ streams

    def _window(self, ctx: RequestContext, state: CallState) -> StreamWindow | None:
        restoring = self._config.restore_redactions and bool(state.placeholders)
        for guard in self._stream_remote:
            self._record(ctx, guard, "stream", "not_run", reason="webhook guards do not run on streams")
        if not (self._stream_text or self._stream_tools or restoring):
            return None

        def report(tally: dict[str, GuardTally]) -> None:
            for guard in dict.fromkeys((*self._stream_text, *self._stream_tools)):  # each guard once
                t = tally[guard.id]
                stage = "stream" if guard in self._stream_text else "tool_args"
                outcome = "error" if t.error and t.outcome == "allow" else t.outcome
                self._record(ctx, guard, stage, outcome, t.score, t.latency_us, t.error or t.reason)

        approval = self._calls[id(ctx)].approval
        window = StreamWindow(
            self._stream_text,
            self._stream_tools,
            state,
            hold_back=self._config.hold_back_chars,
            restore_placeholders=restoring,
            dry_run=self._dry,
            report=report,
            approvals=approval,
        )
        previous = ctx.stream_inspector
        ctx.stream_inspector = window if previous is None else _Pipe(previous, window)
        return window

    # ------------------------------------------------------------------ verdicts

    def _info(self, ctx: RequestContext) -> CallInfo:
        p = ctx.principal
        principal = {"kind": p.kind, "id": p.id, "team": p.team_id} if p is not None else None
        return CallInfo(ctx.request_id, ctx.model, principal)

    def _settle(
        self,
        ctx: RequestContext,
        stage: str,
        ran: list[Ran],
        payload: dict[str, Any],
        reversible: bool,
        held: _Held | None = None,
    ) -> Deny | bool:
        """Record every verdict; a denial for the first enforced block, else whether
        redactions were written into ``payload``. With ``held``, tool calls a guard wants
        approved are collected there instead of refused."""
        refusal: TollhouseError | None = None
        redactions: dict[Path, tuple[str, list[Finding]]] = defaultdict(lambda: ("", []))
        for r in ran:
            if r.verdict is None:
                self._record(ctx, r.guard, stage, "error", latency_us=r.latency_us, reason=r.error or "")
                if not r.guard.fail_open and not self._dry and refusal is None:
                    refusal = _unchecked(self.policy, stage, r, self._config.max_scan_chars)
                continue
            v = r.verdict
            self._record(ctx, r.guard, stage, v.action.value, v.score, r.latency_us, v.reason)
            if self._dry or v.action in (Action.ALLOW, Action.FLAG):
                continue
            if v.action is Action.REDACT:
                for hit in v.hits:
                    segment = r.view.segments[hit.segment]
                    redactions[segment.path] = (segment.text, [*redactions[segment.path][1], hit.finding])
            elif v.action is Action.REQUIRE_APPROVAL and stage == "tool_args" and held is not None:
                _hold(held, payload, r, v.hits, f"guard {r.guard.id}: {v.reason}")
            elif refusal is None:
                refusal = _refusal(r.guard.id, v.action, v.reason, stage)
        if refusal is not None:
            return Deny(refusal, f"guard_{refusal.code}", f"guardrail:{self.policy}")
        for path, (text, findings) in redactions.items():
            write(payload, path, redact(text, findings, self._state_of(ctx), reversible))
        return bool(redactions)

    def _state_of(self, ctx: RequestContext) -> CallState:
        return self._calls[id(ctx)].state

    def _record(
        self,
        ctx: RequestContext,
        guard: AnyGuard,
        stage: str,
        outcome: str,
        score: float = 0.0,
        latency_us: int = 0,
        reason: str = "",
    ) -> None:
        ctx.verdicts.append(
            GuardVerdict(self.policy, guard.id, stage, outcome, score, latency_us, reason, self._dry)
        )
        if outcome != "allow":
            shown = "flag" if self._dry and outcome in ("block", "redact", "require_approval") else outcome
            note = f"dry run {outcome}: {reason}" if shown != outcome else reason
            ctx.decisions.append(Decision(f"guard:{self.policy}/{guard.id}", shown, f"{stage}:{note}"))


def _hold(held: _Held, payload: dict[str, Any], r: Ran, hits: tuple[Hit, ...], reason: str) -> None:
    """Note the tool calls ``hits`` fall in (all the guard read when it names none)."""
    segments = [r.view.segments[h.segment] for h in hits] if hits else list(r.view.segments)
    for segment in segments:
        found = tool_call_at(payload, segment.path)
        # Text outside any recognised tool call is held under its own path: never let through.
        path, name = (found[0], found[1]) if found is not None else (segment.path, "tool")
        reasons = held.setdefault(path, (name, []))[1]
        if reason not in reasons:
            reasons.append(reason)


def _held_calls(body: dict[str, Any], held: _Held) -> list[HeldCall]:
    """The held calls with their arguments as they now are (redactions written)."""
    calls = []
    for path, (name, reasons) in held.items():
        found = tool_call_at(body, path)
        arguments = found[2] if found is not None else None
        calls.append(HeldCall(name, arguments, "; ".join(reasons)))
    return calls


def _refusal(guard: str, action: Action, reason: str, stage: str) -> TollhouseError:
    if action is Action.REQUIRE_APPROVAL and stage == "tool_args":
        return ApprovalRequired(f"a tool call needs approval (guard {guard}: {reason})")
    where = {"request": "the prompt", "tool_results": "a tool result", "tool_args": "a tool call"}.get(
        stage, "the answer"
    )
    return GuardBlocked(f"{where} was blocked by guard {guard} ({reason})")


class _Pipe:
    """Two stream inspectors in a row (two guardrail policies on one stream)."""

    def __init__(self, first: StreamInspector, second: StreamInspector) -> None:
        self._first = first
        self._second = second

    @property
    def blocked(self) -> TollhouseError | None:
        return self._first.blocked or self._second.blocked

    def feed(self, event: StreamEvent) -> list[StreamEvent]:
        return [out for mid in self._first.feed(event) for out in self._second.feed(mid)]

    def finish(self) -> list[StreamEvent]:
        out = [o for mid in self._first.finish() for o in self._second.feed(mid)]
        return out + self._second.finish()

    async def settle(self) -> None:
        await self._first.settle()
        await self._second.settle()

    def close(self) -> None:
        self._first.close()
        self._second.close()


def compile_guardrails(
    config: GuardrailsConfig,
    pool: UpstreamPool,
    issues: list[ConfigIssue],
    secrets: list[Secret],
    approvals: ToolCallApprovals | None = None,
) -> list[Policy]:
    """One ``GuardrailPolicy`` per configured policy, in order; problems go to ``issues``."""
    policies: list[Policy] = []
    for i, policy in enumerate(config.policies):
        guards = build_guards(policy, pool, f"guardrails.policies.{i}", issues, secrets)
        policies.append(GuardrailPolicy(policy, guards, approvals))
    return policies


def _unchecked(policy: str, stage: str, ran: Ran, max_chars: int | None) -> TollhouseError:
    """The refusal of a call a guard could not check (``fail_closed``)."""
    if ran.oversize:
        return PayloadTooLarge(
            f"guardrail policy {policy} reads at most {max_chars} characters at the {stage} stage;"
            f" this call has {ran.oversize}"
        )
    return GuardUnavailable(f"guard {ran.guard.id} failed; the call is refused")
