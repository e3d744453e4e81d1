"""The caller, as every policy and the audit log see it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

PrincipalKind = Literal["master", "user", "agent", "service", "anonymous"]


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller. Never holds a secret: ``key_id`` names a key, it is not one.

    ``on_behalf_of`` is the user an agent acts for on this request; with the agent itself it
    forms the delegation chain recorded in the audit log.
    """

    kind: PrincipalKind
    id: str
    org_id: str | None = None
    team_id: str | None = None
    key_id: str | None = None
    on_behalf_of: str | None = None
    roles: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    @property
    def delegation_chain(self) -> tuple[str, ...]:
        """Who acted for whom, outermost first: ``("user:alice", "agent:planner")``."""
        me = f"{self.kind}:{self.id}"
        return (f"user:{self.on_behalf_of}", me) if self.on_behalf_of else (me,)


ANONYMOUS = Principal(kind="anonymous", id="anonymous")
