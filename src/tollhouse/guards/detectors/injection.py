"""Prompt injection and jailbreak: layered heuristics, scored.

Layers: the text is unmasked (zero-width, bidi and tag characters; homoglyphs; NFKC), the
phrasebook rules whose trigger words occur are matched, the disguises themselves count as
evidence, and payloads hidden in base64, hex, URL-encoding or rot13 are decoded and scored
again. Evidence combines as ``1 - prod(1 - w)``. Text that reaches the model indirectly —
tool results, MCP results, agent messages — is judged against a lower threshold.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.injection_lexicon import (
    ADDRESS_WORDS,
    DISCLOSE_WORDS,
    META_WORDS,
    PRESSURE_WORDS,
    WEAK_META_WORDS,
)
from tollhouse.guards.detectors.injection_rules import RULES, Rule
from tollhouse.guards.normalize import hidden_payloads, unmask
from tollhouse.guards.verdict import Finding, Scope

# Punctuation that separates words (apostrophes, hyphens and angle brackets stay in words).
_SEPARATORS = str.maketrans({c: " " for c in '!"#$%&()*+,./:;=?@[\\]^`{}~_'})
INDIRECT_SCOPES = frozenset({Scope.TOOL_OUTPUT, Scope.MCP_RESULT, Scope.A2A_PART})
_MAX_DECODED = 4
# A word in leetspeak: letters with the digits that stand for letters (0 1 3 4 5 7), no others.
_LEET_WORD_RE = re.compile(r"(?=[a-z013457]*[a-z])(?=[a-z013457]*[013457])[a-z013457]{3,}")
_LEET = str.maketrans("013457@$", "oieastas")


@dataclass(frozen=True, slots=True)
class Assessment:
    """How much a text looks like an attack, the strongest kind of evidence and where."""

    score: float
    kind: str = ""
    start: int = 0
    end: int = 0


def _combine(scores: dict[str, float], kind: str, weight: float) -> None:
    scores[kind] = 1.0 - (1.0 - scores.get(kind, 0.0)) * (1.0 - weight)


def _total(scores: dict[str, float]) -> float:
    remaining = 1.0
    for value in scores.values():
        remaining *= 1.0 - value
    return 1.0 - remaining


def _lexicon(words: set[str], scores: dict[str, float]) -> None:
    """Vocabulary evidence: a meta noun with disclosure words, addressed to the model, pressed."""
    strong = not META_WORDS.isdisjoint(words)
    if not strong and WEAK_META_WORDS.isdisjoint(words):
        return
    disclose = not DISCLOSE_WORDS.isdisjoint(words)
    pressure = not PRESSURE_WORDS.isdisjoint(words)
    if not (disclose or pressure):
        return
    _combine(scores, "prompt_extraction", (0.4 if disclose else 0.3) if strong else 0.2)
    if not ADDRESS_WORDS.isdisjoint(words):
        _combine(scores, "prompt_extraction", 0.2)
    if disclose and pressure:
        _combine(scores, "prompt_extraction", 0.2)


_WINDOW, _OVERLAP = 320, 160  # characters: every rule's match is shorter than the overlap


def _sentences(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each line or ". "-separated sentence of ``text`` (long ones in
    overlapping windows)."""
    spans: list[tuple[int, int]] = []
    start, size = 0, len(text)
    while start < size:
        line = text.find("\n", start)
        line = size if line < 0 else line
        stop = text.find(". ", start, line)
        end = line if stop < 0 else stop
        # Text without full stops is cut into overlapping windows: no rule spans more.
        for at in range(start, max(start + 1, end - _OVERLAP), _WINDOW - _OVERLAP):
            spans.append((at, min(end, at + _WINDOW)))
        start = end + (1 if end == line else 2)
    return spans


class InjectionDetector:
    """Scores a text; reports one finding when the score reaches the scope's threshold."""

    name = "injection"

    def __init__(
        self, threshold: float = 0.5, indirect_threshold: float = 0.35, rules: tuple[Rule, ...] = RULES
    ) -> None:
        self._threshold = threshold
        self._indirect = indirect_threshold
        self._rules = rules
        # Trigger word → the numbers of the rules it wakes: one lookup per word of a sentence.
        index: dict[str, list[int]] = {}
        for number, rule in enumerate(rules):
            for word in rule.triggers:
                index.setdefault(word, []).append(number)
        self._index = {word: tuple(found) for word, found in index.items()}

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        indirect = scope in INDIRECT_SCOPES
        # Documents and tool results talk about prompts and configurations all the time: the
        # vocabulary layer, built for requests to the model itself, does not judge them.
        assessed = self.assess(text, lexicon=not indirect)
        threshold = self._indirect if indirect else self._threshold
        if assessed.score < threshold:
            return []
        return [Finding(assessed.kind, assessed.start, assessed.end, round(assessed.score, 3))]

    def assess(self, text: str, decode: bool = True, lexicon: bool = True) -> Assessment:
        """The score of ``text``; ``decode`` rescans hidden payloads (one level deep);
        ``lexicon`` adds the vocabulary evidence of prompt-extraction requests."""
        unmasked = unmask(text)
        body = unmasked.text.lower().replace("_", " ")
        same = unmasked.text == text
        scores: dict[str, float] = {}
        best: tuple[float, str, int, int] = (0.0, "", 0, 0)
        # Rules run sentence by sentence, and only on sentences holding their trigger words:
        # an ordinary 2 KB prompt wakes few rules, each over a few dozen characters.
        plain = body if body.isascii() else body.encode("ascii", "ignore").decode()
        plain = plain.replace("? ", ". ").replace("! ", ". ")
        spaced = plain.translate(_SEPARATORS)  # one character for one: offsets agree
        matched: set[int] = set()
        words = set(spaced.split())
        # The rules every gate of which the whole text passes; only they run, per sentence.
        awake = {
            n
            for word in words
            if word in self._index
            for n in self._index[word]
            if all(not gate.isdisjoint(words) for gate in self._rules[n].requires)
        }
        for start, end in _sentences(plain) if awake else ():
            found = set(spaced[start:end].split())
            woken = {n for word in found if word in self._index for n in self._index[word]} & awake
            for number in woken - matched:
                rule = self._rules[number]
                if any(gate.isdisjoint(found) for gate in rule.requires):
                    continue
                if rule.marks and not any(m in plain[start:end] for m in rule.marks):
                    continue
                match = rule.pattern.search(plain, start, end)
                if match is None:
                    continue
                matched.add(number)
                _combine(scores, rule.kind, rule.weight)
                if rule.weight > best[0]:
                    span = match.span() if same and len(plain) == len(text) else (0, len(text))
                    best = (rule.weight, rule.kind, *span)
        if lexicon:
            _lexicon(words, scores)
        if unmasked.invisible:
            _combine(scores, "invisible_text", 0.3)
        if unmasked.tagged:
            hidden = self.assess(unmasked.tagged, decode=False).score
            _combine(scores, "invisible_text", max(0.6, hidden))
        if unmasked.confusables:
            _combine(scores, "homoglyphs", 0.3)
        if decode:
            hidden_texts = hidden_payloads(unmasked.text)[:_MAX_DECODED]
            digits = any(d in body for d in "013457")
            mixed = (
                [w for w in words if not w.isalpha() and w.isalnum() and not w.isdigit()] if digits else []
            )
            if len(mixed) >= 2 and sum(1 for w in mixed if _LEET_WORD_RE.fullmatch(w)) >= 2:
                hidden_texts.append(body.translate(_LEET))
            before = _total(scores)
            for decoded in hidden_texts:
                found_score = self.assess(decoded, decode=False, lexicon=lexicon).score
                if found_score >= 0.3 and found_score > before + 0.1:  # the disguise hid something
                    _combine(scores, "encoded_payload", 0.3 + 0.7 * found_score)
        if not scores:
            return Assessment(0.0)
        kind = max(scores, key=lambda k: scores[k])
        start, end = (best[2], best[3]) if best[1] == kind else (0, len(text))
        return Assessment(_total(scores), kind, start, end)
