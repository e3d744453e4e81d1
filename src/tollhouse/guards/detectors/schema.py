"""Structured outputs: the answer must be JSON that satisfies a JSON Schema — the one the
policy names, else the one the caller asked for (``response_format`` / ``text.format``)."""

from __future__ import annotations

from typing import Any

import orjson
from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from tollhouse.guards.detector import CallState
from tollhouse.guards.verdict import Finding, Scope


def check_schema(schema: dict[str, Any]) -> None:
    """Raise ``ValueError`` when ``schema`` is not a valid JSON Schema (config time)."""
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as exc:
        raise ValueError(f"invalid JSON schema: {exc.message}") from None


class SchemaDetector:
    """A finding when the assistant's text is not JSON, or not valid under the schema."""

    name = "schema"

    def __init__(self, schema: dict[str, Any] | None = None) -> None:
        self._fixed = Draft202012Validator(schema) if schema is not None else None

    def _validator(self, state: CallState) -> Draft202012Validator | None:
        if self._fixed is not None:
            return self._fixed
        if state.schema is None:
            return None
        return Draft202012Validator(state.schema)

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        if scope is not Scope.ASSISTANT:
            return []
        validator = self._validator(state)
        if validator is None:
            return []
        try:
            document = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [Finding("schema_not_json", 0, len(text))]
        error = next(iter(validator.iter_errors(document)), None)
        if error is None:
            return []
        return [Finding("schema_violation", 0, len(text))]
