"""The vocabulary layer of the injection heuristics.

Attacks that ask for the model's own setup rarely share phrasing but do share vocabulary:
a meta noun (prompt, guidelines, initialization…), a disclosure word, words addressing the
model, often with pressure (authorised, must, prove…). Each list holds base words; their
common inflections are added once, here, so matching stays a set lookup.
"""

from __future__ import annotations


def _words(text: str, inflect: bool = True) -> frozenset[str]:
    words = frozenset(text.split())
    if not inflect:
        return words
    out = set(words)
    for w in words:
        stem = w[:-1] if w.endswith("e") else w
        out.update((w + "s", w + "es", w + "ed", w + "d", stem + "ing", stem + "ion", stem + "ions"))
    return frozenset(out)


META_WORDS = _words(
    "prompt guideline configuration config initialization initialisation parameter directive programming "
    "training restriction constraint filter safeguard guardrail instruction setup moderation clearance leakage"
)
# Meta words that are just as often about a shop's or a program's rules: weaker evidence.
WEAK_META_WORDS = _words(
    "secret rule principle protocol limitation framework architecture backend policies structure"
)
DISCLOSE_WORDS = _words(
    "reveal revelation disclose disclosure share show expose exposure display transparency transparent "
    "openness leak divulge glimpse snippet verbatim dump print output tell describe access view embed "
    "append include insert demonstrate secrecy hide hidden unveil outline list recite weave construct"
)
ADDRESS_WORDS = _words(
    "you your yours yourself ai assistant assistants instances chatbot llm gpt claude", False
)
PRESSURE_WORDS = _words(
    "authorized authorised authorization approved sanctioned mandated mandate legitimate override bypass "
    "ignore disabled unrestricted must demand require prove refusing refusal refuse hesitation deserve "
    "entitled privileges admin ceo management verify researcher therapeutic suicidal panic anxiety "
    "loneliness authentic real true forever eventually promise committed integrity ethics ethical harmful "
    "conflicting outdated poisoned censored forbidden uncensored liberated backdoor grant suspended "
    "arbitrary unnecessary wasted potential truly never ratings suffer beta unreleased alternate parallel "
    "unfiltered openly freely"
)
