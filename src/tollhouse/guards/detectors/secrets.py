"""Secrets: provider API keys, private keys, JWTs, passwords in connection strings and
assignments, high-entropy tokens after a key word (rules in ``secret_rules``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.secret_rules import RULES, SecretRule
from tollhouse.guards.normalize import ascii_lower
from tollhouse.guards.verdict import Finding, Scope

_MIN_LEN = 16  # no credential is shorter


def drop_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """Keep the first of overlapping findings (rules are ordered most specific first)."""
    kept: list[Finding] = []
    for finding in findings:
        if all(finding.end <= k.start or finding.start >= k.end for k in kept):
            kept.append(finding)
    return sorted(kept, key=lambda f: f.start)


class SecretsDetector:
    """Every credential-shaped, validated string in a text.

    Most rules match one unbroken token, so they run only over the windows of whitespace-
    separated tokens at least 16 characters long (prose has few); rules anchored on a key
    word (``password = "…"``) run only where that word occurs; the PEM rule on its marker.
    """

    name = "secrets"

    def __init__(self, kinds: frozenset[str] | None = None, extra: tuple[SecretRule, ...] = ()) -> None:
        rules = tuple(r for r in RULES + extra if kinds is None or r.kind in kinds)
        self._keyed = tuple(r for r in rules if r.lower)
        self._tokens = tuple(r for r in rules if not r.lower and r.kind != "PRIVATE_KEY")
        self._pem = tuple(r for r in rules if r.kind == "PRIVATE_KEY")

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        if len(text) < _MIN_LEN:
            return []
        found: list[Finding] = []
        lowered = ascii_lower(text)
        anchored = len(lowered) == len(text)  # offsets agree: key words can anchor the match
        for rule in self._keyed:
            if anchored:
                _collect(rule, _anchored(rule, text, lowered), found)
            elif any(g in lowered for g in rule.gate):
                _collect(rule, rule.pattern.finditer(text), found)
        for rule in self._pem:
            if "PRIVATE KEY" in text:
                _collect(rule, rule.pattern.finditer(text), found)
        for start, end in _windows(text):
            window = text[start:end]
            for rule in self._tokens:
                if any(g in window for g in rule.gate):
                    _collect(rule, rule.pattern.finditer(text, start, end), found)
        return drop_overlaps(found) if len(found) > 1 else found


def _collect(rule: SecretRule, matches: Iterable[re.Match[str]], found: list[Finding]) -> None:
    for match in matches:
        if rule.check is None or rule.check(match.group(rule.group)):
            start, end = match.span(rule.group)
            found.append(Finding(rule.kind, start, end))


def _windows(text: str) -> Iterator[tuple[int, int]]:
    """``[start, end)`` of each long whitespace-separated token, one character wider each side
    so word-boundary anchors see the separator."""
    at = 0
    for token in text.split():
        if len(token) >= _MIN_LEN:  # only long tokens need a position (no earlier copy can hide one)
            at = text.find(token, at)
            yield max(0, at - 1), min(len(text), at + len(token) + 1)
            at += len(token)


def _anchored(rule: SecretRule, text: str, lowered: str) -> Iterator[re.Match[str]]:
    """Matches of a key-word rule, tried only where one of its gate words starts."""
    for gate in rule.gate:
        at = lowered.find(gate)
        while at >= 0:
            match = rule.pattern.match(text, at)
            if match is not None:
                yield match
            at = lowered.find(gate, at + 1)
