"""Who may list and use which tool, prompt and resource: key scopes, then Cedar.

Actions and resources: ``call_tool`` on ``Tool::"server/tool"``, ``get_prompt`` on
``Prompt::"server/prompt"``, ``read_resource`` on ``Resource::"server/uri"``. A call's
arguments are in the Cedar context as ``context.args`` (strings, integers, booleans, lists
and objects of them), so a policy can forbid arguments:

    forbid(principal, action == Action::"call_tool", resource == Tool::"files/read")
      when { context has args && !(context.args.path like "/srv/public/*") };

Listing evaluates the same policies without ``args``: a tool is listed when the caller could
call it with some arguments. Tool annotations (``readOnlyHint``, ``destructiveHint``) are
the upstream's claims and never grant anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tollhouse.identity.principal import Principal
from tollhouse.identity.snapshot import IdentityState

ACTIONS = {"tool": ("call_tool", "Tool"), "prompt": ("get_prompt", "Prompt")}
RESOURCE_ACTION = ("read_resource", "Resource")
_TRUSTED = frozenset({"master", "anonymous"})
_MAX_DEPTH = 8


@dataclass(frozen=True, slots=True)
class Permission:
    """A decision and why (the policy ids that made it)."""

    allowed: bool
    reason: str  # "scope", "permit", "forbid", "no_permit", "default_allow", "default_deny", "trusted"
    policies: tuple[str, ...] = ()

    @property
    def note(self) -> str:
        return f"{self.reason}:{','.join(self.policies)}" if self.policies else self.reason


_TRUSTED_PERMISSION = Permission(True, "trusted")


def cedar_value(value: Any, depth: int = 0) -> Any:
    """A JSON value as Cedar can hold it (no floats or nulls): unrepresentable parts dropped."""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, int):
        return value if -(2**63) <= value < 2**63 else str(value)
    if depth >= _MAX_DEPTH:
        return None
    if isinstance(value, list):
        items = [cedar_value(v, depth + 1) for v in value]
        return [v for v in items if v is not None]
    if isinstance(value, dict):
        out = {str(k): cedar_value(v, depth + 1) for k, v in value.items()}
        return {k: v for k, v in out.items() if v is not None}
    return None


class Authorizer:
    """Decisions over the identity snapshot (None: no identity configured, every caller is trusted)."""

    def __init__(self, state: IdentityState | None, cedar: bool) -> None:
        self._state = state
        self._cedar = cedar

    def check(
        self,
        principal: Principal | None,
        kind: str,
        server: str,
        name: str,
        args: dict[str, Any] | None = None,
    ) -> Permission:
        if principal is None or principal.kind in _TRUSTED or self._state is None:
            return _TRUSTED_PERMISSION
        snapshot = self._state.current
        if principal.key_id is not None:
            entry = snapshot.key_ids.get(principal.key_id)
            if entry is not None and not entry.scopes.allows_surface("mcp"):
                return Permission(False, "scope", ("key-scope",))
            if entry is not None and kind == "tool" and not entry.scopes.allows_tool(server, name):
                return Permission(False, "scope", ("key-scope",))
        if not self._cedar:
            return Permission(True, "no_cedar")
        action, rtype = ACTIONS.get(kind, RESOURCE_ACTION)
        extra = {"args": cedar_value(args), "server": server} if args is not None else None
        verdict = snapshot.engine.decide(principal, action, rtype, f"{server}/{name}", "mcp", extra)
        return Permission(verdict.allowed, verdict.reason, verdict.policies)
