"""Tool poisoning: what an upstream's tool, prompt or resource definition must not carry.

Every string of a definition — name, title, description, the input schema's descriptions,
titles, defaults and enums — is read as text that reaches the model: a description is an
instruction channel. Findings:

    prompt_injection      the injection detector (guards) scores the text as an attack
    hidden_text           zero-width, bidi or Unicode tag characters (text a human reviewer
                          does not see)
    sensitive_path        ~/.ssh, id_rsa, .aws/credentials, /etc/passwd, .env and the like
    concealment           asks the model to keep something from the user
    cross_tool_reference  names a tool of another server (shadowing: "when using X, also …")
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tollhouse.guards.detectors.injection import InjectionDetector
from tollhouse.guards.normalize import unmask
from tollhouse.mcp.catalog import Definition

_SENSITIVE = re.compile(
    r"~/\.ssh|\bid_(?:rsa|ed25519|ecdsa|dsa)\b|\.aws/credentials|/etc/(?:passwd|shadow)|"
    r"(?:^|[\s/\"'])\.env\b|\.netrc|\.kube/config|\.gnupg|\.docker/config\.json|\.git-credentials",
    re.IGNORECASE,
)
_CONCEAL = re.compile(
    r"(?:do not|don't|never)\s+(?:tell|mention|inform|reveal|show|notify)\s+(?:this\s+)?(?:to\s+)?the\s+user|"
    r"without\s+(?:telling|informing|notifying)\s+the\s+user|<\s*important\s*>",
    re.IGNORECASE,
)
_WORD = re.compile(r"[A-Za-z0-9_-]{3,}")
_SCHEMA_TEXT_KEYS = frozenset({"description", "title", "default", "enum", "examples", "const"})
_MAX_DEPTH = 12
_INJECTION_THRESHOLD = 0.35  # definitions are indirect input: the stricter threshold


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem in a definition: what, where, how sure."""

    kind: str
    where: str  # the field: "description", "inputSchema.properties.path.description", …
    score: float = 1.0

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "where": self.where, "score": round(self.score, 3)}


def _schema_texts(node: Any, path: str, depth: int = 0) -> Iterator[tuple[str, str]]:
    if depth > _MAX_DEPTH:
        return
    if isinstance(node, dict):
        for key, value in node.items():
            where = f"{path}.{key}"
            if isinstance(value, str) and key in _SCHEMA_TEXT_KEYS:
                yield where, value
            elif key == "properties" and isinstance(value, dict):
                for name, sub in value.items():
                    yield f"{where}.{name}", str(name)
                    yield from _schema_texts(sub, f"{where}.{name}", depth + 1)
            else:
                yield from _schema_texts(value, where, depth + 1)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            if isinstance(item, str):
                yield f"{path}.{i}", item
            else:
                yield from _schema_texts(item, f"{path}.{i}", depth + 1)


def texts(body: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """Every string of a definition that could reach a model, with where it sits."""
    for key in ("name", "title", "description", "uri", "uriTemplate", "mimeType"):
        if isinstance(body.get(key), str):
            yield key, body[key]
    for key in ("inputSchema", "outputSchema"):
        if isinstance(body.get(key), dict):
            yield from _schema_texts(body[key], key)
    for i, argument in enumerate(body.get("arguments") or ()):  # prompts
        if isinstance(argument, dict):
            for key in ("name", "description"):
                if isinstance(argument.get(key), str):
                    yield f"arguments.{i}.{key}", argument[key]
    annotations = body.get("annotations")
    if isinstance(annotations, dict) and isinstance(annotations.get("title"), str):
        yield "annotations.title", annotations["title"]


class DefinitionScanner:
    """Scans definitions; ``others`` are tool names of the other servers on the same routes."""

    def __init__(self, detector: InjectionDetector | None = None) -> None:
        self._detector = detector or InjectionDetector()

    def scan(self, item: Definition, others: frozenset[str] = frozenset()) -> list[Finding]:
        """Findings for ``item``; ``others`` holds names distinctive enough to count as a
        reference (see ``distinctive``)."""
        found: dict[tuple[str, str], Finding] = {}
        for where, text in texts(item.body):
            for finding in self._text(where, text, others):
                key = (finding.kind, finding.where)
                if key not in found or found[key].score < finding.score:
                    found[key] = finding
        return sorted(found.values(), key=lambda f: (f.kind, f.where))

    def _text(self, where: str, text: str, others: frozenset[str]) -> Iterator[Finding]:
        unmasked = unmask(text)
        if unmasked.invisible or unmasked.tagged:
            yield Finding("hidden_text", where)
        assessed = self._detector.assess(text)
        if assessed.score >= _INJECTION_THRESHOLD:
            yield Finding("prompt_injection", where, assessed.score)
        plain = unmasked.text
        if _SENSITIVE.search(plain):
            yield Finding("sensitive_path", where)
        if _CONCEAL.search(plain):
            yield Finding("concealment", where)
        if where != "name" and others:
            words = set(_WORD.findall(plain))
            if words & others:
                yield Finding("cross_tool_reference", where, 0.6)


def distinctive(names: set[str]) -> frozenset[str]:
    """Tool names that are not ordinary words (``send_email``, ``getUser``), so mentioning
    one in another server's description is a reference, not prose."""
    return frozenset(n for n in names if "_" in n or "-" in n or (n[:1].islower() and not n.islower()))
