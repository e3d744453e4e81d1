"""Admin roles: which admin actions each role may take, and where a team admin's reach ends.

    role               may
    admin              everything
    security-auditor   read everything, the audit trail and its content, policies (and test
                       them), credential names, held tool calls (deciding them is not auditing)
    approver           read, and list and decide tool calls held for approval
    team-admin         read, create and change agents and keys of its own team only
    viewer             read teams, principals and keys (never events, policies or credentials)

Only ``admin`` may grant roles, so a team admin cannot create a principal more powerful
than itself.
"""

from __future__ import annotations

from dataclasses import dataclass

from tollhouse.identity.cedar_engine import ADMIN_ACTIONS
from tollhouse.identity.principal import Principal

READ = "admin:read"
AUDIT_READ = "admin:audit:read"
AUDIT_CONTENT = "admin:audit:content"  # decrypt prompts and answers held by the audit trail
POLICIES_READ = "admin:policies:read"
POLICIES_WRITE = "admin:policies:write"
KEYS_WRITE = "admin:keys:write"
PRINCIPALS_WRITE = "admin:principals:write"
TEAMS_WRITE = "admin:teams:write"
CREDENTIALS_READ = "admin:credentials:read"
CREDENTIALS_WRITE = "admin:credentials:write"
APPROVALS_READ = "admin:approvals:read"
APPROVALS_DECIDE = "admin:approvals:decide"

ROLE_ACTIONS: dict[str, frozenset[str]] = {
    "admin": frozenset(ADMIN_ACTIONS),
    "security-auditor": frozenset(
        {READ, AUDIT_READ, AUDIT_CONTENT, POLICIES_READ, CREDENTIALS_READ, APPROVALS_READ}
    ),
    "approver": frozenset({READ, APPROVALS_READ, APPROVALS_DECIDE}),
    "team-admin": frozenset({READ, KEYS_WRITE, PRINCIPALS_WRITE}),
    "viewer": frozenset({READ}),
}
TEAM_SCOPED = frozenset({"team-admin"})


@dataclass(frozen=True, slots=True)
class Actor:
    """The authenticated caller of the admin API and the roles it holds."""

    principal: Principal

    @property
    def name(self) -> str:
        return f"{self.principal.kind}:{self.principal.id}"

    @property
    def roles(self) -> frozenset[str]:
        if self.principal.kind == "master":
            return frozenset({"admin"})
        return frozenset(r for r in self.principal.roles if r in ROLE_ACTIONS)

    def can(self, action: str) -> bool:
        return any(action in ROLE_ACTIONS[r] for r in self.roles)

    def team_scope(self, action: str) -> str | None:
        """None when a role grants ``action`` everywhere; else the one team it is limited to.

        A team-scoped role without a team reaches nothing: ``""`` matches no team id.
        """
        if any(action in ROLE_ACTIONS[r] for r in self.roles - TEAM_SCOPED):
            return None
        return self.principal.team_id or ""

    @property
    def is_admin(self) -> bool:
        return "admin" in self.roles
