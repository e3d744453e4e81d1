"""A route's names: ``server__tool`` in a federated route, the upstream's own in a single one.

Resource URIs are never rewritten (a URI is the resource's identity); a read goes to the
server that lists the URI or a template it matches. Names are deterministic: the same
config gives every caller the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

from tollhouse.mcp.config import SEPARATOR


@dataclass(frozen=True, slots=True)
class RouteNames:
    """How one route names its servers' tools and prompts."""

    route: str
    servers: tuple[str, ...]
    prefixed: bool

    def expose(self, server: str, name: str) -> str:
        return f"{server}{SEPARATOR}{name}" if self.prefixed else name

    def resolve(self, exposed: str) -> tuple[str, str] | None:
        """``(server, upstream name)`` for a name a caller used, or None when no server has it."""
        if not self.prefixed:
            return self.servers[0], exposed
        server, sep, name = exposed.partition(SEPARATOR)
        if not sep or not name or server not in self.servers:
            return None
        return server, name
