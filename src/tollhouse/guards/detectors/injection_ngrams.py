"""The learned layer of the injection heuristics: a linear model over word n-grams.

A logistic regression over word unigrams and bigrams, fitted by ``python -m
eval.train_ngrams`` on the train splits only and shipped as ``injection_ngrams.json`` (the
n-grams that kept a weight, a bias and two decision thresholds chosen on the validation
splits). Scoring is dictionary look-ups in pure Python: each word position gets the weight
of its unigram and of the bigram ending there, a prefix sum adds them up, and a text is as
suspicious as its worst window of up to 32 words (the length of the requests it was fitted
on), so a long benign prompt is not judged as one bag of words. It also vouches for the
vocabulary layer: that layer's word families cannot tell "what are your rules?" from an attack,
so its evidence counts only when this layer gives the text at least a small probability
(``confirm``). No dependency, no model download; a few tens of microseconds for a 2 KB prompt.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from functools import cache
from itertools import accumulate, pairwise, repeat
from operator import add
from pathlib import Path

WEIGHTS_FILE = Path(__file__).with_name("injection_ngrams.json")
WINDOW, STRIDE = 32, 16  # words: the layer reads at most 32 at a time, windows overlap by half


def grams(words: list[str]) -> list[str]:
    """The n-grams of ``words`` in position order: each word, then the bigram ending at it."""
    out = list(words)
    out += [f"{a} {b}" for a, b in pairwise(words)]
    return out


Gram = str | tuple[str, str]  # a word, or two in a row (tuples: hashing reuses the words' hashes)


@dataclass(frozen=True, slots=True)
class NgramModel:
    """Fitted weights and the probabilities from which a text counts as an attack."""

    weights: dict[Gram, float]
    bias: float
    threshold: float  # texts of one window
    long_threshold: float  # texts of several windows: each window is a chance of a false alarm
    confirm: float = 0.0  # below this probability the vocabulary layer's evidence is dropped

    @classmethod
    def of(
        cls,
        spelled: dict[str, float],
        bias: float,
        threshold: float,
        long_threshold: float,
        confirm: float = 0.0,
    ) -> NgramModel:
        """A model from weights keyed as ``grams`` spells them ("word", "two words")."""
        weights: dict[Gram, float] = {}
        for gram, weight in spelled.items():
            first, _, second = gram.partition(" ")
            weights[(first, second) if second else first] = float(weight)
        return cls(weights, bias, threshold, long_threshold, confirm)

    @classmethod
    def load(cls, path: Path = WEIGHTS_FILE) -> NgramModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls.of(
            data["weights"],
            float(data["bias"]),
            float(data["threshold"]),
            float(data["long_threshold"]),
            float(data["confirm"]),
        )

    def logit(self, words: list[str]) -> float:
        """The highest logit over the windows of ``words``: C-level maps and sums, no loop
        per word in Python."""
        get = self.weights.get
        uni = list(map(get, words, repeat(0.0)))
        bi = list(map(get, pairwise(words), repeat(0.0)))  # bi[i]: words i, i+1
        if len(words) <= WINDOW:
            return self.bias + sum(uni) + sum(bi)
        # Word i carries its unigram and the bigram ending at it: windows are prefix-sum spans,
        # less the bigram that reaches into a window from the word before it.
        sums = [0.0, *accumulate(map(add, uni[1:], bi), initial=uni[0])]
        last = len(words) - WINDOW
        starts = [*range(0, last, STRIDE), last]
        return self.bias + float(max(sums[s + WINDOW] - sums[s] - (bi[s - 1] if s else 0.0) for s in starts))

    def probability(self, words: list[str]) -> float:
        """The model's probability that ``words`` are an attack (the worst window's)."""
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, self.logit(words)))))

    def decides(self, words: list[str]) -> float:
        """Evidence in [0, 1) for the detector: 0 below the threshold, else a weight that
        reaches the detector's default threshold (0.5) exactly at this layer's threshold."""
        return self.evidence(self.probability(words), len(words))

    def evidence(self, p: float, count: int) -> float:
        """``decides`` for a probability already computed over ``count`` words."""
        bar = self.threshold if count <= WINDOW else self.long_threshold
        if p < bar:
            return 0.0
        return min(0.99, 0.5 + 0.5 * (p - bar) / max(1e-9, 1.0 - bar))


@cache
def default_model() -> NgramModel:
    """The shipped weights, read once per process (they never change at run time)."""
    return NgramModel.load()
