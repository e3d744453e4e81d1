"""Conditional routing: whether a target may serve a call, from the caller and the request."""

from __future__ import annotations

from typing import Any

from tollhouse.pipeline.context import RequestContext
from tollhouse.routing.config import TargetCondition


class Condition:
    """A target's ``when``, compiled: every field given must match; within a list, any entry."""

    __slots__ = ("_headers", "_kinds", "_metadata", "_orgs", "_tags", "_teams")

    def __init__(self, config: TargetCondition) -> None:
        self._teams = frozenset(config.teams)
        self._orgs = frozenset(config.orgs)
        self._tags = frozenset(config.tags)
        self._kinds = frozenset(config.principal_kinds)
        self._headers = tuple(config.headers.items())
        self._metadata = tuple(config.metadata.items())

    def matches(self, ctx: RequestContext) -> bool:
        principal = ctx.principal
        if self._teams and (principal is None or principal.team_id not in self._teams):
            return False
        if self._orgs and (principal is None or principal.org_id not in self._orgs):
            return False
        if self._tags and (principal is None or self._tags.isdisjoint(principal.tags)):
            return False
        if self._kinds and (principal is None or principal.kind not in self._kinds):
            return False
        headers = ctx.headers
        if any(headers.get(name) != value for name, value in self._headers):
            return False
        if self._metadata:
            metadata: Any = ctx.payload.get("metadata")
            if not isinstance(metadata, dict):
                return False
            return all(metadata.get(key) == value for key, value in self._metadata)
        return True
