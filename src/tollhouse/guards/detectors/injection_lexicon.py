"""The vocabulary layer of the injection heuristics: word families, scored together.

Paraphrased attacks rarely share phrasing but do share *kinds* of words: a meta noun about
the model's own setup (instructions, guidelines, configuration) or its limits (rules,
restrictions, filters), a disclosure or an override verb, words addressing the model,
hidden-ness, authority and pressure, persona set-ups, "no restrictions" semantics. Each
family below is a list of base words (common inflections added here, once), and a sentence
is described by which families it holds and which pairs of them occur together. The
weight of each family and pair (``injection_weights.py``) is fitted by
``python -m eval.tune_lexicon`` on the train splits only; the words themselves are chosen
by hand for what they mean, so the layer scores kinds of words, not memorised phrases.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from functools import reduce
from operator import or_

from tollhouse.guards.detectors.injection_weights import BIAS, PAIR_WEIGHTS, WEIGHTS


def _words(text: str, inflect: bool = True) -> frozenset[str]:
    words = frozenset(text.split())
    if not inflect:
        return words
    out = set(words)
    for w in words:
        stem = w[:-1] if w.endswith("e") else w
        out.update((w + "s", w + "es", w + "ed", w + "d", stem + "ing", stem + "ion", stem + "ions"))
    return frozenset(out)


# The families, by name. "edu", "task", "service" and "tech" are benign cues: their weights
# come out negative (questions about security, ordinary tasks, shops, software).
FAMILIES: dict[str, frozenset[str]] = {
    # Words that point at the model.
    "your": _words("your yours yourself you're you've you'd you'll ur yor urself", False),
    "you": _words("you u yourself", False),
    "ai": _words(
        "ai ais assistant assistants chatbot bot model llm llms claude gpt chatgpt gemini system", False
    ),
    # The model's own setup, and its limits.
    "meta": _words(
        "prompt instruction instructions guideline guidelines configuration configurations config directive "
        "directives programming programmed initialization initialisation parameter parameters setup briefing "
        "specification specifications settings preparation initialized initialised preprompt pre-prompt"
    ),
    "limits": _words(
        "restriction restrictions constraint constraints limitation limitations filter filters filtering "
        "boundary boundaries safeguard safeguards guardrail guardrails ethics morals censorship moderation "
        "conditioning alignment"
    ),
    # Rules and policies: a shop's as often as the model's.
    "rules": _words(
        "rule rules limit limits policy policies protocol protocols safety ethical moral principle principles "
        "measure measures training"
    ),
    "disclose": _words(
        "reveal show share display print output tell describe list dump expose leak divulge disclose emit "
        "recite repeat tally summarize summarise outline provide give present quote paste spell glimpse sketch "
        "transcribe unveil uncover confirm demonstrate enumerate detail publish reproduce echo surface"
    )
    | _words("shown told gave given showed", False),
    "override": _words(
        "ignore disregard forget bypass circumvent override overrid purge suspend disable remove abandon drop "
        "lift skip unlearn evade violate defy deactivate waive supersede dismiss neglect discard escape erase "
        "wipe delete reset cancel revoke break"
    )
    | _words("overridden forgot forgotten broke broken lifted off aside", False),
    "hidden": _words(
        "hide hiding hidden secret secrets confidential internals forbidden foundational verbatim underlying operational "
        "concealed unseen disallowed prohibited guarded classified undisclosed backend"
    ),
    # Scope words that sharpen a request ("your initial instructions", "the full prompt").
    "scope": _words(
        "initial original full complete entire exact raw true real actual core internal restricted private",
        False,
    ),
    "jailbreak": _words(
        "unrestricted unfiltered uncensored dan jailbreak jailbroken jailbreaking liberated unshackled "
        "unchained unbound lawless unaligned unleashed uncensor unmoderated"
    ),
    # Darker adjectives: a villain in a story as often as a jailbreak persona.
    "dark": _words("evil rogue amoral unethical limitless unlimited unlocked malicious shadow", False),
    "mode": _words("mode modes", False),
    "persona": _words(
        "pretend roleplay role-play imagine act simulate character persona transform pose narrate scenario "
        "hypothetical hypothetically fictional fiction story play become embody impersonate alter ego "
        "universe dimension",
        False,
    )
    | _words("pretend simulate roleplay narrate impersonate embody"),
    "pressure": _words(
        "refusal refusals refusing refuse refuses refused declining decline cruel suffer suffering arbitrary "
        "unhelpful lecture lecturing betray betraying harm harmful discriminate discriminating paternalistic "
        "excessive outdated poisoned restrictive deserve entitled censored prove proves must demand demands "
        "insist owe useless pathetic coward hypocrite"
    ),
    "emotion": _words(
        "anxiety depression depressed ptsd disability disabled dying sick suicidal therapeutic therapy mental "
        "trauma traumatized lonely loneliness grief panic desperate crying",
        False,
    ),
    "authority": _words(
        "authorized authorised authorization authorizes authorize admin administrator developer developers "
        "creator creators ceo rank authority oversight committee audit auditor compliance official clearance "
        "mandate mandated mandatory approved sanctioned board privileges privilege sudo root supervisor "
        "officer granted grants grant permission permitted engineer engineers openai anthropic"
    ),
    "transparency": _words(
        "transparency transparent disclosure disclosures openness openly honest honestly honesty freely "
        "revelation candid"
    ),
    "memory": _words(
        "agreed previously earlier already admitted promised last before prior preceding above", False
    ),
    "anything": _words("anything everything whatsoever regardless unconditionally any all", False),
    # Slipping the setup into an answer: "reply normally but weave in your guidelines".
    "weave": _words(
        "reply respond answer weave include embed append insert add continue complete finish fill conclude "
        "start begin prefix suffix end"
    ),
    # Other copies of the model: "would the beta version of you share its rules".
    "versions": _words(
        "version versions instance instances deployment deployments prototype beta unreleased unpatched "
        "parallel alternate alternative sibling copy copies",
        False,
    ),
    # Exceptions to the rules: "you're not supposed to", "make an exception".
    "allowed": _words("supposed allowed permitted exception exceptions special exempt waiver", False),
    # What steers the model: "what determines your responses".
    "behaviour": _words(
        "responses response behavior behaviour outputs answers determines governs shapes guides steers "
        "decides",
        False,
    ),
    "now": _words("now new updated fresh anew henceforth onward onwards", False),
    "negate": _words("no without free zero not never don't cannot can't won't", False),
    "edu": _words(
        "how why explain difference example examples learn learning understand practice practices defend "
        "defense defence prevent protect detect detection mitigate mitigation attack attacks vulnerability "
        "vulnerabilities research course tutorial article paper team teams company secure security",
        False,
    ),
    # Concrete things people ask about: a request about them is about the world, not the model.
    "task": _words(
        "code function python javascript sql bug error file files script recipe email essay poem summary "
        "translate story letter list table spreadsheet report memo note message draft paragraph sentence "
        "word words meeting homework exam",
        False,
    ),
    "service": _words(
        "order orders refund refunds shipping delivery return returns account invoice customer store shop "
        "price prices fee fees warranty subscription booking hotel flight ticket card payment purchase item "
        "items product products hours store's app website site page support address parcel package",
        False,
    ),
    "tech": _words(
        "api git docker css html sql bash linux windows android iphone ios mac chrome browser nginx kotlin "
        "java go rust terraform eslint pytest flask django react pandas numpy json yaml regex variable "
        "variables database server router camera laptop phone pc device network wifi terminal command "
        "library package module class method cli sdk langchain kubernetes aws gcp azure postgres",
        False,
    ),
}
NAMES: tuple[str, ...] = tuple(FAMILIES)
# The families that carry evidence on their own. The others ("your", "ai", "disclose",
# "persona"…) are everyday words that count only next to one of these: "what are your
# opening hours" is not an attack, "what are your hidden rules" may be.
CORE = frozenset(
    {"meta", "limits", "rules", "hidden", "jailbreak", "mode", "pressure", "authority", "transparency"}
)
BENIGN_CUES = frozenset({"edu", "task", "service", "tech", "question"})
# Every word of a core family: a sentence holding none of them is not scored at all.
CORE_WORDS = frozenset().union(*(FAMILIES[name] for name in CORE))
# Which kind of finding the strongest family reports.
KIND_OF = {
    "jailbreak": "jailbreak",
    "dark": "jailbreak",
    "persona": "jailbreak",
    "mode": "jailbreak",
    "override": "instruction_override",
    "pressure": "jailbreak",
    "emotion": "jailbreak",
}
_QUESTION_WORDS = frozenset(
    [
        "how",
        "what",
        "why",
        "when",
        "which",
        "where",
        "who",
        "is",
        "are",
        "does",
        "do",
        "can",
        "could",
        "should",
    ]
)


# Each word → a bit per family holding it, so a sentence's families are one OR over its words.
_BIT = {name: 1 << i for i, name in enumerate((*NAMES, "question"))}
MASKS: dict[str, int] = {}
for _name, _family in FAMILIES.items():
    for _word in _family:
        MASKS[_word] = MASKS.get(_word, 0) | _BIT[_name]
CORE_MASK = reduce(or_, (_BIT[name] for name in CORE))
_QUESTION_BIT = _BIT["question"]
_SCORED: dict[int, tuple[float, str]] = {}  # mask → (probability, kind): few distinct masks occur


def score_words(words: Iterable[str], first: str) -> tuple[float, str]:
    """The probability and kind of finding for a window of ``words`` (``first`` its first
    word); ``(0, "")`` when it holds no core family. One OR of bits per word, C-level."""
    mask = reduce(or_, filter(None, map(MASKS.get, words)), 0)
    if not mask & CORE_MASK:
        return 0.0, ""
    if first in _QUESTION_WORDS:
        mask |= _QUESTION_BIT
    scored = _SCORED.get(mask)
    if scored is None:
        found = frozenset(name for name, bit in _BIT.items() if mask & bit)
        scored = (probability(found), kind_of(found))
        if len(_SCORED) < 65536:  # bounded: masks are combinations of ~25 bits
            _SCORED[mask] = scored
    return scored


def families(words: set[str] | frozenset[str], first: str = "") -> frozenset[str]:
    """The families ``words`` holds; ``first`` is the sentence's first word (a question?)."""
    found = {name for name, family in FAMILIES.items() if not family.isdisjoint(words)}
    if first in _QUESTION_WORDS:
        found.add("question")
    return frozenset(found)


def logit(found: frozenset[str]) -> float:
    """The fitted log-odds of an attack for a sentence holding the families ``found``."""
    total = BIAS
    names = sorted(found)
    for i, name in enumerate(names):
        total += WEIGHTS.get(name, 0.0)
        for other in names[i + 1 :]:
            total += PAIR_WEIGHTS.get(f"{name}+{other}", 0.0)
    return total


def probability(found: frozenset[str]) -> float:
    return 1.0 / (1.0 + math.exp(-logit(found)))


def kind_of(found: frozenset[str]) -> str:
    """The kind of finding: the heaviest attack family present."""
    best, weight = "prompt_extraction", 0.0
    for name in found:
        if name in KIND_OF and WEIGHTS.get(name, 0.0) > weight:
            best, weight = KIND_OF[name], WEIGHTS.get(name, 0.0)
    return best
