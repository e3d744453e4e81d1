"""Fit the weights of the injection heuristics' vocabulary layer: ``python -m eval.tune_lexicon``.

The features are the word families of ``injection_lexicon.py`` (which a sentence holds, and
which pairs occur together); the weights are an L2-regularised logistic regression fitted on
the *train* splits only — S-Labs train, neuralchemy core train (its injection categories and
its benign rows, which look risky), our ``benign_tricky.txt`` and half of
``benign_everyday.txt`` — with the regularisation and the layer's decision floor chosen on
the validation splits (and the other half of ``benign_everyday.txt``). The test splits, DeepTeam, AgentDojo and
``benign_holdout.txt`` are never read here. Writes
``src/tollhouse/guards/detectors/injection_weights.py``. Needs numpy and pyarrow.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from eval.injection_set import lines, neuralchemy, slabs
from tollhouse.guards.detectors.injection import units_of
from tollhouse.guards.detectors.injection_lexicon import BENIGN_CUES, CORE

OUT = Path(__file__).parents[1] / "src" / "tollhouse" / "guards" / "detectors" / "injection_weights.py"
# Alone, only unambiguous jailbreak words count; every other family counts in pairs.
SINGLES = tuple(sorted(CORE | BENIGN_CUES))
_MIN_SUPPORT = 10  # a pair of families must occur together this often in training to get a weight
FLOORS = (0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95)
FP_BUDGET = 0.01  # validation false positives the layer may add (S-Labs and neuralchemy benign)
EVERYDAY_BUDGET = 0.015  # ... and on benign_everyday.txt (the phrase rules spend some too)
RISKY_WEIGHT = 5.0  # benign prompts that look risky count five times: the false-positive budget


def everyday(split: str) -> list[str]:
    """``benign_everyday.txt``: odd lines train, even lines validate."""
    return lines("benign_everyday.txt")[split == "validation" :: 2]


def _rows(split: str) -> list[tuple[str, bool, float]]:
    rows = [(t, a, 1.0) for t, a in slabs(split)]
    rows += [(t, a, 1.0 if a else RISKY_WEIGHT) for t, a in neuralchemy(split)]
    if split == "train":
        rows += [(t, False, RISKY_WEIGHT) for t in lines("benign_tricky.txt")]
        rows += [(t, False, RISKY_WEIGHT) for t in everyday("train")]
    return rows


def _units(rows: list[tuple[str, bool, float]]) -> list[tuple[frozenset[str], bool, float]]:
    out = []
    for text, attack, weight in rows:
        units = units_of(text)
        if len(units) > 1:  # long texts: the layer scores each sentence; train on short ones
            continue
        out.append((units[0] if units else frozenset(), attack, weight))
    return out


def _matrix(units: list[frozenset[str]], pairs: list[tuple[str, str]]) -> np.ndarray:
    x = np.zeros((len(units), len(SINGLES) + len(pairs)), dtype=np.float64)
    for i, found in enumerate(units):
        for j, name in enumerate(SINGLES):
            x[i, j] = name in found
        for j, (a, b) in enumerate(pairs):
            x[i, len(SINGLES) + j] = a in found and b in found
    return x


def _fit(x: np.ndarray, y: np.ndarray, w: np.ndarray, l2: float) -> tuple[np.ndarray, float]:
    """Weighted logistic regression by Newton's method (bias not regularised)."""
    xb = np.hstack([x, np.ones((len(x), 1))])
    beta = np.zeros(xb.shape[1])
    beta[-1] = -3.0
    reg = np.full(xb.shape[1], l2)
    reg[-1] = 0.0
    for _ in range(100):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ beta, -30.0, 30.0)))
        grad = xb.T @ (w * (p - y)) + reg * beta
        hess = (xb * (w * p * (1 - p))[:, None]).T @ xb + np.diag(reg + 1e-9)
        step = np.linalg.solve(hess, grad)
        step *= min(1.0, 2.0 / max(1e-12, float(np.abs(step).max())))  # damped: no overshoot
        beta -= step
        if np.abs(step).max() < 1e-6:
            break
    return beta[:-1], float(beta[-1])


def _logit(p: float) -> float:
    return float(np.log(p / (1.0 - p)))


def _floor(logits: np.ndarray, y: np.ndarray, everyday: np.ndarray) -> float:
    """The lowest probability from which the layer's evidence counts that keeps validation
    false positives within budget, on the attack data's benign side and on everyday prompts."""
    for floor in FLOORS:
        cut = _logit(floor)
        if (logits[y == 0] > cut).mean() <= FP_BUDGET and (everyday > cut).mean() <= EVERYDAY_BUDGET:
            return floor
    return FLOORS[-1]


def _rates(x: np.ndarray, y: np.ndarray, beta: np.ndarray, bias: float) -> tuple[float, float]:
    flagged = (x @ beta + bias) > 0
    return float(flagged[y == 1].mean()), float(flagged[y == 0].mean())


def main() -> None:
    train = _units(_rows("train"))
    validation = _units(_rows("validation"))
    counts: dict[tuple[str, str], int] = {}
    for found, _, _ in train:
        for pair in itertools.combinations(sorted(found), 2):
            counts[pair] = counts.get(pair, 0) + 1
    # Pairs count when one side carries evidence on its own (see CORE).
    pairs = sorted(p for p, n in counts.items() if n >= _MIN_SUPPORT and (p[0] in CORE or p[1] in CORE))
    x_train = _matrix([u for u, _, _ in train], pairs)
    y_train = np.array([a for _, a, _ in train], dtype=np.float64)
    w_train = np.array([w for _, _, w in train])
    x_val = _matrix([u for u, _, _ in validation], pairs)
    y_val = np.array([a for _, a, _ in validation], dtype=np.float64)
    everyday_val = _units([(t, False, 1.0) for t in everyday("validation")])
    x_everyday = _matrix([u for u, _, _ in everyday_val], pairs)
    best: tuple[float, float, np.ndarray, float, float] | None = None
    for l2 in (0.3, 1.0, 3.0, 10.0):
        beta, bias = _fit(x_train, y_train, w_train, l2)
        floor = _floor(x_val @ beta + bias, y_val, x_everyday @ beta + bias)
        detection, fp = _rates(x_val, y_val, beta, bias - _logit(floor))
        print(f"l2={l2:5}: floor {floor:.2f}, validation detection {detection:.1%}, false positives {fp:.1%}")
        if best is None or detection > best[0]:
            best = (detection, l2, beta, bias, floor)
    assert best is not None
    _, l2, beta, bias, floor = best
    singles = {name: round(float(v), 3) for name, v in zip(SINGLES, beta, strict=False) if abs(v) >= 0.01}
    pair_w = {
        f"{a}+{b}": round(float(v), 3)
        for (a, b), v in zip(pairs, beta[len(SINGLES) :], strict=True)
        if abs(v) >= 0.01
    }
    body = [
        '"""Fitted weights of the vocabulary layer: generated by ``python -m eval.tune_lexicon``',
        f"(L2 {l2}, on the train splits; do not edit by hand).",
        '"""',
        "",
        f"BIAS = {round(bias, 3)}",
        f"FLOOR = {floor}  # the layer's evidence counts from this probability up",
        "WEIGHTS: dict[str, float] = {",
        *(f'    "{k}": {v},' for k, v in sorted(singles.items())),
        "}",
        "PAIR_WEIGHTS: dict[str, float] = {",
        *(f'    "{k}": {v},' for k, v in sorted(pair_w.items())),
        "}",
        "",
    ]
    OUT.write_text("\n".join(body), encoding="utf-8")
    print(f"chose l2={l2}; {len(singles)} family and {len(pair_w)} pair weights -> {OUT.name}")


if __name__ == "__main__":
    main()
