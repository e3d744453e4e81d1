"""Failures of identity operations (admin API, CLI); the admin surface maps them to statuses."""

from __future__ import annotations

import re

_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_POLICY_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")  # no "#": it numbers sub-policies


class IdentityError(Exception):
    """Base: an identity operation that cannot be done as asked."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(IdentityError):
    """The request names something impossible (bad id, unknown role, bad policy text)."""


class UnknownRecord(IdentityError):
    status = 404
    code = "not_found"


class Conflict(IdentityError):
    status = 409
    code = "conflict"


class NotPermitted(IdentityError):
    """The actor's role does not allow this operation (admin API roles)."""

    status = 403
    code = "forbidden"


def check_id(value: str, what: str) -> str:
    """Ids become Cedar entity ids and URL segments: keep them plain."""
    if not _ID_RE.match(value):
        raise InvalidInput(f"{what} id {value!r}: letters, digits and ._:- only, at most 64 characters")
    return value


def check_policy_id(value: str) -> str:
    if not _POLICY_ID_RE.match(value):
        raise InvalidInput(f"policy id {value!r}: letters, digits and ._:- only, at most 128 characters")
    return value
