"""The canonical bytes of a record and the chain hash over them.

Records are JSON objects whose keys are ASCII and whose values are strings, integers
(|n| < 2**53), booleans, null, arrays and objects; no floats. For such values the RFC 8785
JSON Canonicalization Scheme (JCS) is exactly: keys sorted, no whitespace, strings escaped
minimally (``\\"``, ``\\\\``, ``\\b\\f\\n\\r\\t``, other controls as ``\\u00xx``), UTF-8. orjson
with sorted keys writes that form; ``check_canonical_value`` rejects anything outside the
subset so the equivalence holds, and the unit tests compare against the ``rfc8785`` package.

    hash(record) = SHA-256(prev_hash ‖ canonical(record)), prev_hash of the first record = 32 zero bytes
"""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

GENESIS_PREV = bytes(32)
MAX_SAFE_INT = 2**53 - 1
CANONICAL_OPTIONS = orjson.OPT_SORT_KEYS


class NotCanonical(ValueError):
    """A value outside the JSON subset records may hold (a float, a huge int, a non-ASCII key)."""


def canonical(record: dict[str, Any]) -> bytes:
    """The RFC 8785 bytes of ``record`` (which must be in the subset described above)."""
    return orjson.dumps(record, option=CANONICAL_OPTIONS)


def chain_hash(prev_hash: bytes, canonical_bytes: bytes) -> bytes:
    """SHA-256 over the previous record's hash followed by this record's canonical bytes."""
    return hashlib.sha256(prev_hash + canonical_bytes).digest()


def check_canonical_value(value: Any, path: str = "$") -> None:
    """Raise ``NotCanonical`` if ``value`` holds anything JCS and orjson could write differently."""
    if value is None or isinstance(value, bool | str):
        return
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INT:
            raise NotCanonical(f"{path}: integer beyond 2**53")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str) or not key.isascii():
                raise NotCanonical(f"{path}: keys must be ASCII strings")
            check_canonical_value(item, f"{path}.{key}")
        return
    if isinstance(value, list | tuple):
        for index, item in enumerate(value):
            check_canonical_value(item, f"{path}[{index}]")
        return
    raise NotCanonical(f"{path}: {type(value).__name__} is not allowed in a record")
