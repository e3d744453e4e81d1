"""Keyword, phrase and regex deny-lists, and topic lists (a topic is a named keyword list)."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from tollhouse.guards.detector import CallState
from tollhouse.guards.verdict import Finding, Scope


@dataclass(frozen=True, slots=True)
class _List:
    kind: str
    pattern: re.Pattern[str]
    # The words as they must appear in the lower-cased text: a cheap test before the scan.
    gates: tuple[str, ...] = ()


def _keyword_list(kind: str, keywords: Sequence[str]) -> _List | None:
    words = sorted({k.strip().lower() for k in keywords if k.strip()}, key=len, reverse=True)
    if not words:
        return None
    alternation = "|".join(re.escape(w).replace(r"\ ", r"\s+") for w in words)
    pattern = re.compile(rf"(?<!\w)(?:{alternation})(?!\w)", re.IGNORECASE)
    return _List(kind, pattern, tuple(w.split()[0] for w in words))


class KeywordDetector:
    """Whole-word, case-insensitive keywords (``topics``: several named lists) and regexes.

    Each list is compiled into one pattern at config time; a keyword list scans the text
    only when one of its words occurs in it at all (a substring test), so a long prompt
    without any of them costs a few ``in`` tests.
    """

    name = "keywords"

    def __init__(
        self,
        keywords: Sequence[str] = (),
        patterns: Sequence[str] = (),
        topics: Mapping[str, Sequence[str]] | None = None,
    ) -> None:
        lists = [_keyword_list("keyword", keywords)]
        lists += [_keyword_list(f"topic:{name}", words) for name, words in (topics or {}).items()]
        lists += [_List("pattern", re.compile(p)) for p in patterns]
        self._lists = tuple(x for x in lists if x is not None)

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        lowered = text.lower() if any(x.gates for x in self._lists) else text
        found: list[Finding] = []
        for entry in self._lists:
            if entry.gates and not any(g in lowered for g in entry.gates):
                continue
            found.extend(Finding(entry.kind, *m.span()) for m in entry.pattern.finditer(text))
        return found
