"""Secret references: ``env:NAME``, ``file:PATH``, ``vault:NAME`` or a literal, never printed.

A ``SecretRef`` is what the config holds; ``resolve()`` reads the value when the config is
compiled. ``vault:NAME`` (a provider's ``api_key`` only) names a credential in the encrypted
vault: it lives in the database, so the identity refresher opens it when the gateway starts
and again whenever it changes (``identity.provider_keys``), not ``resolve()``. Both the reference and the resolved ``Secret`` redact themselves in ``repr``/``str``
so a secret cannot reach a log line through formatting.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import GetCoreSchemaHandler
from pydantic_core import core_schema


class SecretError(ValueError):
    """A reference that cannot be resolved (missing variable, unreadable file)."""


class Secret:
    """A resolved secret value. ``reveal()`` is the only way to read it."""

    __slots__ = ("_source", "_value")

    def __init__(self, value: str, source: str = "literal") -> None:
        self._value = value
        self._source = source

    def reveal(self) -> str:
        return self._value

    def last4(self) -> str:
        return self._value[-4:] if len(self._value) >= 8 else ""

    def __repr__(self) -> str:
        return f"Secret({self._source}, ****)"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


class SecretRef:
    """A reference to a secret as written in the config file."""

    __slots__ = ("kind", "target")

    def __init__(self, raw: str) -> None:
        if raw.startswith("env:"):
            self.kind, self.target = "env", raw[4:]
        elif raw.startswith("file:"):
            self.kind, self.target = "file", raw[5:]
        elif raw.startswith("vault:"):
            self.kind, self.target = "vault", raw[6:]
        else:
            self.kind, self.target = "literal", raw
        if not self.target:
            raise ValueError("empty secret reference")

    @property
    def source(self) -> str:
        """Where the secret comes from, safe to print (never the literal value)."""
        return "literal" if self.kind == "literal" else f"{self.kind}:{self.target}"

    def resolve(self, environ: dict[str, str] | None = None) -> Secret:
        env = os.environ if environ is None else environ
        if self.kind == "env":
            value = env.get(self.target)
            if not value:
                raise SecretError(f"environment variable {self.target} is not set")
            return Secret(value, self.source)
        if self.kind == "file":
            try:
                value = Path(self.target).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise SecretError(f"cannot read secret file {self.target}: {exc.strerror}") from None
            if not value:
                raise SecretError(f"secret file {self.target} is empty")
            return Secret(value, self.source)
        if self.kind == "vault":
            raise SecretError(f"{self.source}: only a provider's api_key can come from the credentials vault")
        return Secret(self.target)

    def __repr__(self) -> str:
        return f"SecretRef({self.source})" if self.kind != "literal" else "SecretRef(****)"

    __str__ = __repr__

    @classmethod
    def __get_pydantic_core_schema__(
        cls, _source: Any, _handler: GetCoreSchemaHandler
    ) -> core_schema.CoreSchema:
        def validate(value: Any) -> SecretRef:
            if isinstance(value, SecretRef):
                return value
            if not isinstance(value, str):
                raise ValueError("a secret must be a string: env:NAME, file:PATH, vault:NAME or a literal")
            return cls(value)

        def serialize(value: SecretRef) -> str:
            return value.source if value.kind != "literal" else "****"

        return core_schema.no_info_plain_validator_function(
            validate,
            json_schema_input_schema=core_schema.str_schema(),
            serialization=core_schema.plain_serializer_function_ser_schema(serialize),
        )
