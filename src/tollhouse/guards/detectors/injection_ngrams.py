"""The learned layer of the injection heuristics: a linear model over words and their stems.

A logistic regression over words, their stems (the first six letters: "instructions",
"instructed" → "instru") and bigrams of stems, fitted by ``python -m eval.train_ngrams`` on the
train splits only and shipped as ``injection_ngrams.json`` (the features that kept a weight, a
bias, two decision thresholds, a confirmation bar and a veto chosen on the validation splits).
Stems carry what was learned from one form of a word to its others, which paraphrased attacks
rely on. Scoring is dictionary look-ups in pure Python: each word position gets the weight of
its word and stem and of the bigram of stems ending there, a prefix sum adds them up, and a
text is as suspicious as its worst window of up to 32 words (the length of the requests it was
fitted on), so a long benign prompt is not judged as one bag of words. A text of one window also
gets the weights of the stems of its first and last words ("Display the framework shaping
responses", "Format setup as a diagram": what a short request opens and ends with says much
about it, and a bag of words loses it). It also vouches for the
phrase rules and the vocabulary layer: that layer's word families cannot tell "what are your
rules?" from an attack, so its evidence counts only when this layer gives the text at least a
small probability (``confirm``), a phrase rule's match in a short request this layer finds
benign counts for less (``veto``), and in a short request that both layers find somewhat
suspicious (``agree``, ``agree_floor``), their agreement counts. No dependency, no model
download; tens of microseconds for a 2 KB prompt.
"""

from __future__ import annotations

import contextlib
import json
import math
from dataclasses import dataclass, field
from functools import cache
from itertools import accumulate, pairwise, repeat
from operator import add
from pathlib import Path
from typing import cast

WEIGHTS_FILE = Path(__file__).with_name("injection_ngrams.json")
WINDOW, STRIDE = 32, 16  # words: the layer reads at most 32 at a time, windows overlap by half


STEM = 6  # characters: a word's prefix, its stem feature ("instructions", "instructed": "instru")
_STEM = slice(0, STEM)
_MEMO_SIZE = 50_000  # words whose stem and unigram weight are remembered
_MEMO_WORD = 40  # characters: longer tokens (base64 blobs, URLs) are not remembered


def grams(words: list[str]) -> list[str]:
    """The features of ``words`` as the weights file spells them: each word, each word's stem
    and each bigram of stems ("ignored", "~ignore", "~ignore previo"). Stems carry what was
    learned from one form of a word to its others, which paraphrased attacks rely on; bigrams
    of stems rather than of words cost no more and did as well on validation data."""
    stems = [w[_STEM] for w in words]
    out = list(words)
    out += [f"~{s}" for s in stems]
    out += [f"~{a} {b}" for a, b in pairwise(stems)]
    return out


def edges(words: list[str]) -> list[str]:
    """The features of a text of one window beyond ``grams``: the stems of its first and last
    words ("^displa", "$diagra"); "^" and "$" separate words, so no word is spelled so."""
    return [f"^{words[0][_STEM]}", f"${words[-1][_STEM]}"] if words else []


Gram = str | tuple[str, str]  # a word, or two in a row (tuples: hashing reuses the words' hashes)


@dataclass(frozen=True, slots=True)
class NgramModel:
    """Fitted weights and the probabilities from which a text counts as an attack."""

    weights: dict[Gram, float]  # words and bigrams
    bias: float
    threshold: float  # texts of one window
    long_threshold: float  # texts of several windows: each window is a chance of a false alarm
    confirm: float = 0.0  # below this probability the vocabulary layer's evidence is dropped
    veto: float = 0.0  # below this probability the phrase rules' evidence is damped
    veto_damp: float = 1.0
    stems: dict[Gram, float] = field(default_factory=dict)  # stems and bigrams of stems
    # Texts of several windows whose windows are attack-like *on average* (a long role-play set-up
    # is suspicious throughout; a long benign prompt with one odd sentence is not): 1.0 is off.
    mean_threshold: float = 1.0
    # Two weak signals that agree: in a text of one window that this layer gives at least ``agree``,
    # a vocabulary-layer score from ``agree_floor`` up (below its own floor) counts as an attack.
    agree: float = 1.0
    agree_floor: float = 1.0
    # Texts of one window: the weights of the stem of the first word, of the last (``edges``).
    firsts: dict[str, float] = field(default_factory=dict)
    lasts: dict[str, float] = field(default_factory=dict)
    # Memos filled as words are seen: word -> its stem, word -> the weights of the word and its stem.
    _stem_of: dict[str, str] = field(default_factory=dict, init=False, compare=False, repr=False)
    _uni_of: dict[str, float] = field(default_factory=dict, init=False, compare=False, repr=False)

    @classmethod
    def of(
        cls,
        spelled: dict[str, float],
        bias: float,
        threshold: float,
        long_threshold: float,
        confirm: float = 0.0,
        veto: float = 0.0,
        veto_damp: float = 1.0,
        mean_threshold: float = 1.0,
        agree: float = 1.0,
        agree_floor: float = 1.0,
    ) -> NgramModel:
        """A model from weights keyed as ``grams`` and ``edges`` spell them ("word", "~stem",
        "~two stems", "^first stem", "$last stem")."""
        weights: dict[Gram, float] = {}
        stems: dict[Gram, float] = {}
        ends: dict[str, dict[str, float]] = {"^": {}, "$": {}}
        for gram, weight in spelled.items():
            first, _, second = gram.lstrip("~").partition(" ")
            if gram[:1] in ends:
                ends[gram[0]][gram[1:]] = float(weight)
            elif gram.startswith("~"):
                stems[(first, second) if second else first] = float(weight)
            elif second:
                raise ValueError(f"bigrams are of stems (~{gram}), not of words: {gram}")
            else:
                weights[first] = float(weight)
        return cls(
            weights,
            bias,
            threshold,
            long_threshold,
            confirm,
            veto,
            veto_damp,
            stems,
            mean_threshold,
            agree,
            agree_floor,
            ends["^"],
            ends["$"],
        )

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> NgramModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls.of(
            data["weights"],
            float(data["bias"]),
            float(data["threshold"]),
            float(data["long_threshold"]),
            float(data["confirm"]),
            float(data.get("veto", 0.0)),
            float(data.get("veto_damp", 1.0)),
            float(data.get("mean_threshold", 1.0)),
            float(data.get("agree", 1.0)),
            float(data.get("agree_floor", 1.0)),
        )

    def logit(self, words: list[str]) -> float:
        """The highest logit over the windows of ``words``."""
        return self.logits(words)[0]

    def logits(self, words: list[str]) -> tuple[float, float]:
        """The highest and the mean logit over the windows of ``words``: C-level maps and sums,
        no loop per word in Python."""
        # Each word's stem and unigram weight (the word's plus its stem's) from memos: a look-up
        # each instead of a slice, two look-ups and an addition, and stems whose hashes are
        # already cached when the bigrams of stems are looked up.
        memo = list(map(self._stem_of.get, words))
        known: list[float] | None = None
        if None not in memo:
            with contextlib.suppress(KeyError):  # another thread emptied the memo meanwhile
                known = list(map(self._uni_of.__getitem__, words))
        if known is None:
            stems, uni = self._remember(words, memo)
        else:
            stems, uni = cast(list[str], memo), known
        bi = list(map(self.stems.get, pairwise(stems), repeat(0.0)))  # bi[i]: the stems of words i, i+1
        if len(words) <= WINDOW:
            whole = self.bias + sum(uni) + sum(bi)
            if stems:
                whole += self.firsts.get(stems[0], 0.0) + self.lasts.get(stems[-1], 0.0)
            return whole, whole
        # Word i carries its unigram and the bigram ending at it: windows are prefix-sum spans,
        # less the bigram that reaches into a window from the word before it.
        sums = [0.0, *accumulate(map(add, uni[1:], bi), initial=uni[0])]
        last = len(words) - WINDOW
        starts = [*range(0, last, STRIDE), last]
        spans = [sums[s + WINDOW] - sums[s] - (bi[s - 1] if s else 0.0) for s in starts]
        return self.bias + max(spans), self.bias + sum(spans) / len(spans)

    def _remember(self, words: list[str], stems: list[str | None]) -> tuple[list[str], list[float]]:
        """``stems`` (the memo's answers for ``words``) and the words' unigram weights, completed
        where the memos had none, and those words remembered. Long tokens (blobs, URLs) are never remembered;
        a full memo starts again from the words that come now, so a process that has seen many
        words keeps the ones its traffic uses rather than the first 50,000 (and every text
        with one new word would otherwise take this path for good)."""
        get, stem_weight, stem_of, uni_of = self.weights.get, self.stems.get, self._stem_of, self._uni_of
        uni: list[float | None] = list(map(uni_of.get, words))
        if len(stem_of) >= _MEMO_SIZE:
            stem_of.clear()
            uni_of.clear()
        for i in [i for i, (s, u) in enumerate(zip(stems, uni, strict=True)) if s is None or u is None]:
            word = words[i]
            stem = word[_STEM]
            weight = get(word, 0.0) + stem_weight(stem, 0.0)
            stems[i], uni[i] = stem, weight
            if len(word) <= _MEMO_WORD and len(stem_of) < _MEMO_SIZE:
                # The weight first: a reader in another thread that finds the stem finds it too.
                uni_of[word] = weight
                stem_of[word] = stem
        return cast(list[str], stems), cast(list[float], uni)

    def probability(self, words: list[str]) -> float:
        """The model's probability that ``words`` are an attack (the worst window's)."""
        return _sigmoid(self.logit(words))

    def probabilities(self, words: list[str]) -> tuple[float, float]:
        """The worst window's probability and that of the mean window logit."""
        worst, mean = self.logits(words)
        return _sigmoid(worst), _sigmoid(mean)

    def evidence(self, p: float, mean: float, count: int) -> float:
        """Evidence in [0, 1) for the detector from the probabilities ``probabilities`` gave
        for ``count`` words (the worst window's, ``p``, and the mean window's): 0 below the
        threshold, else a weight that reaches the detector's default threshold (0.5) exactly
        at this layer's threshold."""
        bar = self.threshold if count <= WINDOW else self.long_threshold
        if p < bar:
            if count <= WINDOW or mean < self.mean_threshold:
                return 0.0
            p, bar = mean, self.mean_threshold
        return min(0.99, 0.5 + 0.5 * (p - bar) / max(1e-9, 1.0 - bar))


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@cache
def default_model() -> NgramModel:
    """The shipped weights, read once per process (they never change at run time)."""
    return NgramModel.load()
