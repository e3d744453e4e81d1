"""Topic deny-lists by meaning (the ``ml`` extra): a text is on a topic when its embedding is
close enough to one of the topic's example sentences."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from tollhouse.guards.detector import CallState
from tollhouse.guards.ml.encoder import MiniLM
from tollhouse.guards.verdict import Finding, Scope

_CHUNK = 1000  # characters per window compared (about 256 tokens)


class SemanticTopicDetector:
    """``topics``: name → example sentences, embedded once at config time."""

    name = "topics"
    pure = True  # findings depend on the text and scope alone (``guards/memo.py``)

    def __init__(
        self, topics: Mapping[str, Sequence[str]], threshold: float = 0.6, encoder: MiniLM | None = None
    ) -> None:
        self._encoder = encoder or MiniLM()
        self._names: list[str] = []
        examples: list[str] = []
        for name, sentences in topics.items():
            for sentence in sentences:
                self._names.append(name)
                examples.append(sentence)
        self._examples = self._encoder.encode(examples) if examples else np.zeros((0, 384), dtype=np.float32)
        self._threshold = threshold

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        if not text.strip() or not self._names:
            return []
        windows = [text[at : at + _CHUNK] for at in range(0, len(text), _CHUNK)]
        similarity = self._encoder.encode(windows) @ self._examples.T  # cosine: both sides unit vectors
        best: dict[str, float] = {}
        for row in similarity:
            for name, value in zip(self._names, row, strict=True):
                best[name] = max(best.get(name, -1.0), float(value))
        return [
            Finding(f"topic:{name}", 0, len(text), round(value, 3))
            for name, value in best.items()
            if value >= self._threshold
        ]
