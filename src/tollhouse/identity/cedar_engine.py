"""Cedar policy evaluation: one parsed policy set and entity graph per snapshot, decisions cached.

Entity types: ``User``, ``Agent``, ``Service`` (principals), ``Team``, ``Org`` (their parents),
``Model`` (an alias), ``Tool`` (``server/tool``), and ``Agent`` again as the resource of
``send_message``. Actions: ``invoke_model``, ``call_tool``, ``send_message`` and the admin
actions, all children of ``Action::"admin:*"``. Policy ids are the operator's own names; a
text holding several policies gets ``id``, ``id#2``, ``id#3``…
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import cedarpy

from tollhouse.identity.errors import InvalidInput
from tollhouse.identity.principal import Principal
from tollhouse.identity.records import PrincipalRecord, Team

DATA_ACTIONS = ("invoke_model", "call_tool", "send_message")
ADMIN_ACTIONS = (
    "admin:read",
    "admin:audit:read",
    "admin:audit:content",
    "admin:policies:read",
    "admin:policies:write",
    "admin:keys:write",
    "admin:principals:write",
    "admin:teams:write",
    "admin:credentials:read",
    "admin:credentials:write",
    "admin:approvals:read",
    "admin:approvals:decide",
)
_TYPES = {
    "user": "User",
    "agent": "Agent",
    "service": "Service",
    "master": "Master",
    "anonymous": "Anonymous",
}
_CACHE_LIMIT = 50_000


@dataclass(frozen=True, slots=True)
class Verdict:
    """A decision and the ids of the policies that made it (empty: the default decided)."""

    allowed: bool
    policies: tuple[str, ...]
    reason: str  # "permit", "forbid", "no_permit" (agents' default deny), "default_allow", "default_deny"
    detail: str = ""  # "reason:id,id" (or the reason alone): what the request's decisions record

    def __post_init__(self) -> None:
        # Built once per evaluation; a cached verdict then costs no string work per request.
        if not self.detail:
            ids = ",".join(self.policies)
            object.__setattr__(self, "detail", f"{self.reason}:{ids}" if ids else self.reason)


def parse_policies(policy_id: str, text: str) -> dict[str, Any]:
    """Cedar JSON for ``text``, its policies renamed after ``policy_id``; ``InvalidInput`` if unparsable."""
    try:
        parsed = json.loads(cedarpy.policies_to_json_str(text))
    except ValueError as exc:
        raise InvalidInput(f"policy {policy_id!r} is not valid Cedar: {exc}") from None
    static = list(parsed.get("staticPolicies", {}).values())
    if parsed.get("templates"):
        raise InvalidInput(f"policy {policy_id!r}: templates are not supported")
    if not static:
        raise InvalidInput(f"policy {policy_id!r} holds no policy")
    return {policy_id if i == 0 else f"{policy_id}#{i + 1}": body for i, body in enumerate(static)}


def entity_type(kind: str) -> str:
    return _TYPES.get(kind, "User")


def _principal_entities(records: Iterable[PrincipalRecord], teams: Iterable[Team]) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for team in teams:
        out.append(
            {
                "uid": {"type": "Team", "id": team.id},
                "attrs": {},
                "parents": [{"type": "Org", "id": team.org_id}],
            }
        )
    for r in records:
        parents = [{"type": "Team", "id": r.team_id}] if r.team_id else [{"type": "Org", "id": r.org_id}]
        attrs = {"kind": r.kind, "roles": list(r.roles), "tags": list(r.tags), "owner": r.owner_id or ""}
        out.append({"uid": {"type": entity_type(r.kind), "id": r.id}, "attrs": attrs, "parents": parents})
    for action in ADMIN_ACTIONS:
        out.append(
            {
                "uid": {"type": "Action", "id": action},
                "attrs": {},
                "parents": [{"type": "Action", "id": "admin:*"}],
            }
        )
    return out


class PolicyEngine:
    """Evaluates (principal, action, resource) against one immutable policy set.

    Built off the hot path whenever the snapshot changes; its decision cache dies with it,
    so a policy change is never answered from a stale cache.
    """

    def __init__(
        self,
        policies: Sequence[tuple[str, str]],
        principals: Sequence[PrincipalRecord] = (),
        teams: Sequence[Team] = (),
        users_default: str = "allow",
        cache_ttl_s: float = 5.0,
    ) -> None:
        static: dict[str, Any] = {}
        for policy_id, text in policies:
            static.update(parse_policies(policy_id, text))
        self.policy_ids = tuple(static)
        self._set = cedarpy.PolicySet.from_json_str(
            json.dumps({"staticPolicies": static, "templates": {}, "templateLinks": []})
        )
        self._entities = cedarpy.Entities.from_json_str(json.dumps(_principal_entities(principals, teams)))
        self._known = {(entity_type(p.kind), p.id) for p in principals}
        self._users_allow = users_default == "allow"
        self._ttl = cache_ttl_s
        # No policy at all: only the defaults decide, so there is nothing to evaluate or cache.
        self._defaults_only = not static
        self._default_verdict = (
            Verdict(True, (), "default_allow") if self._users_allow else Verdict(False, (), "default_deny")
        )
        self._cache: dict[tuple[Any, ...], tuple[float, Verdict]] = {}

    def decide(
        self,
        principal: Principal,
        action: str,
        resource_type: str,
        resource_id: str,
        surface: str = "",
        extra: Mapping[str, Any] | None = None,
    ) -> Verdict:
        """The verdict for one call; cached for ``cache_ttl_s`` per (principal, action, resource).

        ``extra`` adds to the context (e.g. a tool call's ``args``); such a decision depends on
        the call's own values, so it is not cached."""
        if self._defaults_only:
            return _NO_PERMIT if principal.kind == "agent" else self._default_verdict
        if extra:
            return self._evaluate(principal, action, resource_type, resource_id, surface, extra)
        key = (principal.kind, principal.id, principal.team_id, principal.key_id, principal.on_behalf_of,
               action, resource_type, resource_id, surface)  # fmt: skip
        now = time.monotonic()
        hit = self._cache.get(key)
        if hit is not None and hit[0] > now:
            return hit[1]
        verdict = self._evaluate(principal, action, resource_type, resource_id, surface)
        if self._ttl > 0:
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache.clear()
            self._cache[key] = (now + self._ttl, verdict)
        return verdict

    def _evaluate(
        self,
        principal: Principal,
        action: str,
        resource_type: str,
        resource_id: str,
        surface: str,
        extra: Mapping[str, Any] | None = None,
    ) -> Verdict:
        ptype = entity_type(principal.kind)
        entities = self._entities
        if (ptype, principal.id) not in self._known:
            # A caller known only from its token: its team comes from the claims.
            parent = [{"type": "Team", "id": principal.team_id}] if principal.team_id else []
            attrs = {
                "kind": principal.kind,
                "roles": list(principal.roles),
                "tags": list(principal.tags),
                "owner": "",
            }
            delta = [{"uid": {"type": ptype, "id": principal.id}, "attrs": attrs, "parents": parent}]
            entities = entities.with_added_json_str(json.dumps(delta))
        request = {
            "principal": {"type": ptype, "id": principal.id},
            "action": {"type": "Action", "id": action},
            "resource": {"type": resource_type, "id": resource_id},
            "context": {
                "surface": surface,
                "key_id": principal.key_id or "",
                "on_behalf_of": principal.on_behalf_of or "",
                "hour_utc": time.gmtime().tm_hour,
                **(extra or {}),
            },
        }
        result = cedarpy.is_authorized(request, self._set, entities)
        reasons = tuple(result.diagnostics.reasons)
        if result.allowed:
            return Verdict(True, reasons, "permit")
        if reasons:
            return Verdict(False, reasons, "forbid")
        if principal.kind == "agent":
            return _NO_PERMIT
        if self._users_allow:
            return Verdict(True, (), "default_allow")
        return Verdict(False, (), "default_deny")


_NO_PERMIT = Verdict(False, (), "no_permit")
_SHORT_TYPES = {"model": "Model", "tool": "Tool", "agent": "Agent", "admin": "Admin"}


def parse_entity(text: str) -> tuple[str, str]:
    """``Model::"gpt-4o"`` or the short ``model:gpt-4o`` → ``("Model", "gpt-4o")``."""
    kind, sep, ident = text.partition("::")
    if sep:
        ident = ident.strip()
        if len(ident) >= 2 and ident[0] == ident[-1] == '"':
            ident = ident[1:-1]
        if kind.strip() and ident:
            return kind.strip(), ident
    kind, sep, ident = text.partition(":")
    if sep and kind.lower() in _SHORT_TYPES and ident:
        return _SHORT_TYPES[kind.lower()], ident
    raise InvalidInput(f'resource {text!r}: write Type::"id" (Model::"gpt-4o") or type:id (model:gpt-4o)')
