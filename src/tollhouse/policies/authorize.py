"""Authorize a call: the key's scopes first, then Cedar policies (agents: default deny).

The verdict goes into ``ctx.decisions`` for the audit log. A denial names the ids of the
policies that denied (never their text); "no policy permits" names none.
"""

from __future__ import annotations

from collections.abc import Iterable

from tollhouse.errors import Forbidden
from tollhouse.identity.principal import Principal
from tollhouse.identity.snapshot import IdentityState
from tollhouse.pipeline.context import Decision, RequestContext
from tollhouse.pipeline.outcome import Deny, Outcome
from tollhouse.pipeline.phases import CallKind, Phase
from tollhouse.pipeline.policy import Policy

KEY_SCOPE = "key-scope"  # the "policy id" a scope denial names
_TRUSTED = frozenset({"master", "anonymous"})


class Authorize(Policy):
    """``invoke_model`` on ``Model::"<alias>"`` for LLM calls.

    Master keys (and the unauthenticated local mode) are not subject to it: they are the
    operator. MCP and A2A surfaces will add ``call_tool`` / ``send_message`` here.
    """

    name = "authorize"
    phase = Phase.AUTHORIZE
    kinds = frozenset({CallKind.LLM})

    def __init__(self, state: IdentityState, cedar: bool = True) -> None:
        self._state = state
        self._cedar = cedar

    def unrestricted(self, principal: Principal) -> bool:
        """Whether ``principal`` is never authorized (the operator): it may use every model."""
        return principal.kind in _TRUSTED

    def permits(self, principal: Principal, model: str, surfaces: Iterable[str]) -> bool:
        """Whether ``principal`` may invoke ``model`` on any of ``surfaces`` — the check ``enter``
        makes, without recording a decision (what ``GET /v1/models`` lists)."""
        if principal.kind in _TRUSTED:
            return True
        snapshot = self._state.current
        entry = snapshot.key_ids.get(principal.key_id) if principal.key_id is not None else None
        for surface in surfaces:
            scopes = entry.scopes if entry is not None and entry.scoped else None
            if scopes is not None and not (scopes.allows_surface(surface) and scopes.allows_model(model)):
                continue
            if (
                not self._cedar
                or snapshot.engine.decide(principal, "invoke_model", "Model", model, surface).allowed
            ):
                return True
        return False

    async def enter(self, ctx: RequestContext) -> Outcome | None:
        principal = ctx.principal
        if principal is None or principal.kind in _TRUSTED:
            return None
        snapshot = self._state.current
        if principal.key_id is not None:
            entry = snapshot.key_ids.get(principal.key_id)
            if entry is not None and entry.scoped:
                if not entry.scopes.allows_surface(ctx.surface):
                    error = Forbidden(
                        f"this key may not use the {ctx.surface} surface (denied by {KEY_SCOPE})"
                    )
                    return Deny(error, f"scope:{KEY_SCOPE}", self.name)
                if not entry.scopes.allows_model(ctx.model):
                    error = Forbidden(f"this key may not use model `{ctx.model}` (denied by {KEY_SCOPE})")
                    return Deny(error, f"scope:{KEY_SCOPE}", self.name)
        if not self._cedar:
            return None
        verdict = snapshot.engine.decide(principal, "invoke_model", "Model", ctx.model, ctx.surface)
        if verdict.allowed:
            ctx.decisions.append(Decision(self.name, "allow", verdict.detail))
            return None
        if verdict.policies:
            message = f"denied by policy {', '.join(verdict.policies)}"
        else:
            message = f"no policy permits {principal.kind} `{principal.id}` to invoke_model on `{ctx.model}`"
        return Deny(Forbidden(message), verdict.detail, self.name)
