"""Keyword, phrase and regex deny-lists, and topic lists (a topic is a named keyword list)."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from tollhouse.guards.detector import CallState
from tollhouse.guards.normalize import ascii_case_only, ascii_lower
from tollhouse.guards.verdict import Finding, Scope

_META = frozenset(".^$*+?{}[]\\|()")
_QUANTIFIERS = frozenset("*+?{")
_ZERO_WIDTH = ("\\b", "\\A", "^")


@dataclass(frozen=True, slots=True)
class _List:
    kind: str
    pattern: re.Pattern[str]
    # The words as they must appear in the lower-cased text: a cheap test before the scan.
    gates: tuple[str, ...] = ()
    # A literal every match of a regex starts with (after zero-width anchors), or "".
    prefix: str = ""
    # Where the prefix first occurs: a literal-prefix scan (fast when its first character is
    # rare in prose, as capitals, digits and signs are) or str.find.
    find: Callable[[str], int] | None = None
    # Every keyword is ASCII: in a text without case mates (``ascii_case_only``) a match can
    # start only where a gate word does, so the list is matched there, not scanned for.
    ascii: bool = False


def _keyword_list(kind: str, keywords: Sequence[str]) -> _List | None:
    words = sorted({k.strip().lower() for k in keywords if k.strip()}, key=len, reverse=True)
    if not words:
        return None
    alternation = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    pattern = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)
    return _List(kind, pattern, tuple(w.split()[0] for w in words), ascii=all(w.isascii() for w in words))


def literal_prefix(pattern: re.Pattern[str]) -> str:
    """The literal text every match of ``pattern`` begins with ("" when unsure).

    Conservative: leading ``\\b``, ``\\A`` or ``^`` are skipped (they match no characters),
    then plain and escaped punctuation characters are read up to the first metacharacter; a
    character a quantifier follows is optional and ends the prefix. Case-insensitive and
    verbose patterns, and any with ``|``, get none.
    """
    source = pattern.pattern
    if pattern.flags & (re.IGNORECASE | re.VERBOSE) or "|" in source:
        return ""
    at = 0
    while skip := next((z for z in _ZERO_WIDTH if source.startswith(z, at)), None):
        at += len(skip)
    prefix: list[str] = []
    while at < len(source):
        char = source[at]
        if char == "\\" and at + 1 < len(source) and not source[at + 1].isalnum():
            char, size = source[at + 1], 2
        elif char in _META:
            break
        else:
            size = 1
        if source[at + size : at + size + 1] in _QUANTIFIERS and at + size < len(source):
            break
        prefix.append(char)
        at += size
    return "".join(prefix)


def _finder(prefix: str) -> Callable[[str], int] | None:
    """How to find ``prefix`` in a text (its first offset, or -1); None for no prefix."""
    if not prefix:
        return None
    if prefix[0].islower() or prefix[0].isspace():  # common in prose: str.find is faster then
        return lambda text: text.find(prefix)
    scan = re.compile(re.escape(prefix))
    return lambda text: -1 if (m := scan.search(text)) is None else m.start()


class KeywordDetector:
    """Whole-word, case-insensitive keywords (``topics``: several named lists) and regexes.

    Each list is compiled into one pattern at config time; a keyword list scans the text
    only when one of its words occurs in it at all (a substring test), so a long prompt
    without any of them costs a few ``in`` tests. A regex that starts with literal text
    (``\\bINV-\\d{6}``) is scanned only from where that text first occurs, if it does.
    """

    name = "keywords"
    pure = True  # findings depend on the text and scope alone (``guards/memo.py``)

    def __init__(
        self,
        keywords: Sequence[str] = (),
        patterns: Sequence[str] = (),
        topics: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        lists = [_keyword_list("keyword", keywords)]
        lists += [_keyword_list(f"topic:{name}", words) for name, words in (topics or {}).items()]
        for source in patterns:
            pattern = re.compile(source)
            prefix = literal_prefix(pattern)
            lists.append(_List("pattern", pattern, prefix=prefix, find=_finder(prefix)))
        self._lists = tuple(x for x in lists if x is not None)

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        found: list[Finding] = []
        plain: bool | None = None  # ``ascii_case_only(text)``, once a list asks
        folded = lowered = ""  # ``ascii_lower(text)``, ``text.lower()``: computed when needed
        for entry in self._lists:
            if entry.gates and entry.ascii:
                if plain is None:
                    plain = ascii_case_only(text)
                    folded = ascii_lower(text) if plain else ""
                if plain:
                    found.extend(_at_gates(entry, text, folded))
                    continue
            if entry.gates:
                # The full Unicode lower-casing: case mates lower-case into ASCII.
                lowered = lowered or text.lower()
                if not any(g in lowered for g in entry.gates):
                    continue
            start = entry.find(text) if entry.find is not None else 0
            if start < 0:
                continue
            # From ``start`` on: anchors and lookbehinds still see the text before it.
            found.extend(Finding(entry.kind, *m.span()) for m in entry.pattern.finditer(text, start))
        return found


def _at_gates(entry: _List, text: str, folded: str) -> list[Finding]:
    """``entry``'s matches in ``text`` (``folded``: its ASCII lower-casing, no case mates in it),
    tried only where a gate word occurs: in order, each from the end of the last, as
    ``finditer`` finds them (it would find none anywhere else)."""
    places: set[int] = set()
    for gate in entry.gates:
        at = folded.find(gate)
        while at >= 0:
            places.add(at)
            at = folded.find(gate, at + 1)
    found: list[Finding] = []
    end = 0
    for at in sorted(places):
        if at >= end and (m := entry.pattern.match(text, at)) is not None:
            found.append(Finding(entry.kind, *m.span()))
            end = m.end()
    return found
