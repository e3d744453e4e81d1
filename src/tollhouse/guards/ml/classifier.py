"""The injection classifier of the ``ml`` extra: logistic regression over MiniLM embeddings.

The head (``head.json``: 384 weights, a bias and the decision threshold chosen on validation
data) is trained in this repository by ``eval/ml/train_head.py`` from public labelled data
(see docs/guardrails.md). The heuristics judge first; the classifier judges what they let
through, so it adds recall on paraphrased attacks without losing what the rules catch. It
was trained on what users send, so it judges user text only: documents and tool results
are left to the heuristics. Long texts are scored in windows and the worst window counts.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.injection import INDIRECT_SCOPES, InjectionDetector
from tollhouse.guards.ml.encoder import MiniLM
from tollhouse.guards.verdict import Finding, Scope

HEAD = Path(__file__).with_name("head.json")
_CHUNK = 1000  # characters per window scored (about 256 tokens)


def windows(text: str) -> list[str]:
    """The windows of ``text`` the classifier scores, one at least (the head trains on the same)."""
    return [text[at : at + _CHUNK] for at in range(0, max(1, len(text)), _CHUNK)]


class Head:
    """A trained logistic-regression head."""

    def __init__(self, path: Path = HEAD) -> None:
        data = json.loads(path.read_text(encoding="utf-8"))
        self.weights = np.asarray(data["weights"], dtype=np.float32)
        self.bias = float(data["bias"])
        self.meta: dict[str, object] = data.get("meta", {})
        threshold = self.meta.get("threshold")
        self.threshold = float(threshold) if isinstance(threshold, int | float) else 0.5

    def probability(self, embeddings: np.ndarray) -> np.ndarray:
        result: np.ndarray = 1.0 / (1.0 + np.exp(-(embeddings @ self.weights + self.bias)))
        return result


class ClassifierInjectionDetector:
    """The heuristics, then the classifier for what they let through."""

    name = "injection"
    pure = True  # findings depend on the text and scope alone (``guards/memo.py``)

    def __init__(
        self,
        heuristics: InjectionDetector,
        threshold: float | None = None,
        encoder: MiniLM | None = None,
        head: Head | None = None,
    ) -> None:
        self._heuristics = heuristics
        self._encoder = encoder or MiniLM()
        self._head = head or Head()
        self._threshold = threshold if threshold is not None else self._head.threshold

    def score(self, texts: list[str]) -> list[float]:
        """The classifier's probability for each text (worst window of a long one)."""
        chunks: list[str] = []
        owners: list[int] = []
        for i, text in enumerate(texts):
            parts = windows(text)
            chunks += parts
            owners += [i] * len(parts)
        probabilities = self._head.probability(self._encoder.encode(chunks))
        best = [0.0] * len(texts)
        for owner, p in zip(owners, probabilities, strict=True):
            best[owner] = max(best[owner], float(p))
        return best

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        found = self._heuristics.detect(text, scope, state)
        if found or not text.strip() or scope in INDIRECT_SCOPES:
            return found
        probability = self.score([text])[0]
        if probability < self._threshold:
            return []
        return [Finding("classifier", 0, len(text), round(probability, 3))]
