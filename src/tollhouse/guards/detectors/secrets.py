"""Secrets: provider API keys, private keys, JWTs, passwords in connection strings and
assignments, high-entropy tokens after a key word (rules in ``secret_rules``)."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator

from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.secret_rules import RULES, SecretRule
from tollhouse.guards.normalize import ascii_lower, long_tokens
from tollhouse.guards.verdict import Finding, Scope

_MIN_LEN = 16  # no credential is shorter (``long_tokens`` finds the tokens this long)
_LONG_TEXT = 200  # characters: from here on, key-word rules check what a match needs first


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
    word (``password = "…"``) run only where that word occurs, and only when the text has what
    any of their matches needs (an ``=``, a run of key characters that long); the PEM rule on
    its marker.
    """

    name = "secrets"
    pure = True  # findings depend on the text and scope alone (``guards/memo.py``)

    def __init__(self, kinds: frozenset[str] | None = None, extra: tuple[SecretRule, ...] = ()) -> None:
        rules = tuple(r for r in RULES + extra if kinds is None or r.kind in kinds)
        self._keyed = tuple(r for r in rules if r.lower)
        self._tokens = tuple(r for r in rules if not r.lower and r.kind != "PRIVATE_KEY")
        self._pem = tuple(r for r in rules if r.kind == "PRIVATE_KEY")
        # Per character set of a rule's ``run``: the bytes.translate table marking them "v".
        self._runs = {
            r.run[0]: bytes(0x76 if chr(c) in r.run[0] else 0x20 for c in range(256))
            for r in self._keyed
            if r.run[1]
        }
        # A run of 16 or more characters that are never whitespace lies inside one long token
        # (``long_tokens``): such runs are looked for there, not in the whole text.
        self._in_tokens = (
            frozenset(chars for chars in self._runs if not any(c.isspace() for c in chars))
            if all(r.run[1] >= _MIN_LEN for r in self._keyed if r.run[1])
            else frozenset()
        )
        self._scans = tuple(gate_scan(r.gate) for r in self._keyed)
        # Any token rule's gate: one search tells a window that none applies (most windows).
        gates = sorted({g for r in self._tokens for g in r.gate}, key=len, reverse=True)
        self._any_gate = re.compile("|".join(map(re.escape, gates))) if gates else None

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        if len(text) < _MIN_LEN:
            return []
        found: list[Finding] = []
        lowered: str | None = None
        # In a short text the gate words are found sooner than what a match needs is checked.
        long = len(text) >= _LONG_TEXT
        tokens = long_tokens(text)
        marked: dict[str, bytes] = {}  # run characters → the long tokens with those marked "v"
        for rule, scan in zip(self._keyed, self._scans, strict=True):
            if long and not self._possible(rule, text, tokens, marked):
                continue
            if lowered is None:
                lowered = ascii_lower(text)
            if len(lowered) == len(text):  # offsets agree: key words can anchor the match
                _collect(rule, _anchored(rule, text, lowered, scan if long else None), found)
            elif any(g in lowered for g in rule.gate):
                _collect(rule, rule.pattern.finditer(text), found)
        for rule in self._pem:
            if "PRIVATE KEY" in text:
                _collect(rule, rule.pattern.finditer(text), found)
        size = len(text)
        for token_start, token_end in tokens:
            # One character wider each side, so word-boundary anchors see the separator.
            start, end = max(0, token_start - 1), min(size, token_end + 1)
            window = text[start:end]
            if self._any_gate is None or self._any_gate.search(window) is None:
                continue
            for rule in self._tokens:
                if any(map(window.__contains__, rule.gate)):
                    _collect(rule, rule.pattern.finditer(text, start, end), found)
        return drop_overlaps(found) if len(found) > 1 else found

    def _possible(
        self, rule: SecretRule, text: str, tokens: list[tuple[int, int]], marked: dict[str, bytes]
    ) -> bool:
        """Whether ``text`` holds what every match of ``rule`` needs (``tokens``: its long
        tokens; ``marked``: their run-character skeletons so far, by character set)."""
        if not all(any(map(text.__contains__, c)) for c in rule.needs):
            return False
        chars, length = rule.run
        if not length:
            return True
        if chars not in marked:
            # The long tokens, one space apart (not a run character), or the whole text, with
            # run characters marked; non-ASCII characters ("?") are never run characters.
            read = " ".join(text[a:b] for a, b in tokens) if chars in self._in_tokens else text
            marked[chars] = read.encode("ascii", "replace").translate(self._runs[chars])
        return b"v" * length in marked[chars]


def _collect(rule: SecretRule, matches: Iterable[re.Match[str]], found: list[Finding]) -> None:
    for match in matches:
        if rule.check is None or rule.check(match.group(rule.group)):
            start, end = match.span(rule.group)
            found.append(Finding(rule.kind, start, end))


def gate_scan(gates: tuple[str, ...]) -> re.Pattern[str] | None:
    """One pattern whose scan finds every occurrence of every gate word, when no two occurrences
    can overlap (then non-overlapping matches miss none); None when some can."""
    for a in gates:
        for b in gates:
            if (a != b and b in a) or any(a.endswith(b[:k]) for k in range(1, len(b))):
                return None
    return re.compile("|".join(map(re.escape, gates))) if gates else None


def _anchored(
    rule: SecretRule, text: str, lowered: str, scan: re.Pattern[str] | None
) -> Iterator[re.Match[str]]:
    """Matches of a key-word rule, tried only where one of its gate words starts: gate by gate,
    each where it occurs in order (``scan``: ``gate_scan``'s pattern for the rule's gates)."""
    if scan is not None:  # one pass for all the gates (a substring search per gate costs more)
        places: dict[str, list[int]] = {}
        for hit in scan.finditer(lowered):
            places.setdefault(hit.group(), []).append(hit.start())
        for gate in rule.gate:
            for at in places.get(gate, ()):
                if (match := rule.pattern.match(text, at)) is not None:
                    yield match
        return
    for gate in rule.gate:
        at = lowered.find(gate)
        while at >= 0:
            match = rule.pattern.match(text, at)
            if match is not None:
                yield match
            at = lowered.find(gate, at + 1)
