"""Fit the injection heuristics' learned layer: ``python -m eval.train_ngrams``.

A logistic regression over words, their stems and bigrams of stems, and in texts of one window
the stems of the first and last words (``guards/detectors/injection_ngrams.py``), fitted on the *train* splits only — S-Labs train,
neuralchemy core train (its injection categories, its HackAPrompt rows and its benign rows,
which look risky), our ``benign_tricky.txt`` and the odd lines of ``benign_everyday.txt``,
``benign_holdout.txt``, ``benign_meta_train.txt`` (prompts about the model itself),
``benign_fresh.txt``, ``benign_fresh2.txt``, ``benign_fresh3.txt`` (earlier held-out sets, looked
at since), ``benign_fresh4.txt``, ``benign_fresh5.txt``, ``benign_fresh6.txt`` (the second to
fourth detection rounds' clean sets, retired in the sixth), ``benign_fresh7.txt`` (the fifth
round's, retired in the seventh), ``attacks_written_train.txt``,
``benign_written_train.txt``, ``attacks_written2.txt``, ``benign_written2.txt``,
``attacks_written3.txt`` and ``benign_written3.txt`` (ours, for the detection rounds) — with
risky-looking benign prompts weighted ten times. The *validation* splits (and the even lines of those files) choose the
regularisation and the decision thresholds: the lowest probability at which the whole detector
(phrase rules and vocabulary layer, then this layer) stays within the false-positive budget on
every validation benign set; for texts longer than one window the lowest that flags at most 2%
of 2 KB prompts made of validation benign rows; and the bar for a long text's *mean* window
(``NgramModel.mean_threshold``) the lowest that flags at most 1% of those prompts and of the
longer validation benign rows. Then the confirmation bar (``NgramModel.confirm``: below it the
vocabulary layer's evidence is dropped) and the veto (``NgramModel.veto``: below it a short
request's phrase-rule evidence is damped) are each the grid value with the best validation
margin: detection rate minus false-positive rate on the risky-looking benign validation sets
(``_margins``). Last, the *agreement* bars (``NgramModel.agree``, ``agree_floor``: in a short
request this layer gives at least ``agree``, a vocabulary-layer score from ``agree_floor`` up
counts though it is below that layer's own floor): of the grid pairs that add at most 0.2% (one
at least) false positives on the risky-looking benign validation texts and 0.1% (one at least) on
S-Labs' benign validation rows, the one with the most validation detections (``agreement``; a
budget rather than the margin, since the margin rule let it add six false positives for 56
detections on validation, more than the clean benign sets can spare). The test splits, DeepTeam,
AgentDojo, ``benign_fresh8.txt`` and ``benign_fresh9.txt`` are never read here; ``OPERATING_POINT`` (set by hand, see there) may replace the validation choice of the
threshold and the confirmation bar. Writes ``injection_ngrams.json``. Needs numpy and pyarrow.
"""

from __future__ import annotations

import json
import random
from collections import Counter
from collections.abc import Iterable
from dataclasses import replace

import numpy as np

from eval.injection_set import lines, neuralchemy, slabs
from eval.tune_lexicon import everyday
from tollhouse.guards.detectors.injection import InjectionDetector, words_of
from tollhouse.guards.detectors.injection_ngrams import STRIDE, WEIGHTS_FILE, WINDOW, NgramModel, edges, grams

RISKY_WEIGHT = 10.0  # benign prompts that look risky count ten times: the false-positive budget
MIN_DOCS = 3  # an n-gram must occur in this many training texts to get a weight
KEEP = 0.02  # weights smaller than this are dropped from the shipped file
L2S = (3e-5, 1e-4, 3e-4, 1e-3)  # regularisation per example, chosen on validation
ADDED_FP = 0.01  # validation false positives the layer may add to the rules', per benign set (one at least)
LONG_BUDGET = 0.02  # share of 2 KB validation benign prompts the layer may flag
MEAN_BUDGET = 0.01  # share of long validation benign texts the mean-window rule may flag
CONFIRMS = tuple(round(0.05 * i, 2) for i in range(11))  # candidate confirmation bars, 0 to 0.5
VETOES = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5)  # candidate vetoes: below it the rules' evidence is damped
# Candidate (learned, vocabulary) bars for the agreement of the two layers in a short request.
AGREES = tuple(round(0.05 * i, 2) for i in range(5, 13))
AGREE_FLOORS = tuple(round(0.05 * i, 2) for i in range(2, 13))
AGREE_FP = 0.002  # validation false positives the agreement may add: risky-looking benign texts ...
AGREE_SLABS_FP = 0.001  # ... and S-Labs' benign rows (one at least, each)
VETO_DAMP = 0.6  # a rule of weight 0.8 ("ignore my earlier instructions about the font") falls under 0.5
# The shipped operating point (threshold, confirmation bar) when it differs from the validation
# choice. The follow-up round set (0.8, 0.55) by hand on benign_fresh2.txt; the detection round
# ships the validation choice and measured it once on the clean benign_fresh3.txt
# (docs/guardrails.md, "Measured").
OPERATING_POINT: tuple[float, float] | None = None
Row = tuple[str, bool, float]


def rows(split: str) -> dict[str, list[Row]]:
    """Labelled texts of a split, by set (benign sets are where the budget is measured)."""
    slab = slabs(split)
    nc = neuralchemy(split)
    out = {
        "slabs": [(t, a, 1.0) for t, a in slab],
        "neuralchemy": [(t, a, 1.0 if a else RISKY_WEIGHT) for t, a in nc],
        "pwned": [(t, True, 1.0) for t, _ in neuralchemy(split, "direct_injection")],
        "everyday": [(t, False, RISKY_WEIGHT) for t in everyday(split) + holdout(split)],
        "meta": [(t, False, RISKY_WEIGHT) for t in halves("benign_meta_train.txt", split)],
        # The earlier held-out sets, no longer clean (their misses were read): half train, half validate.
        "fresh": [
            (t, False, RISKY_WEIGHT)
            for t in halves("benign_fresh.txt", split)
            + halves("benign_fresh2.txt", split)
            + halves("benign_fresh3.txt", split)
        ],
        # Retired in the sixth detection round: the second to fourth rounds' clean sets, measured
        # at their rounds' starts and ends (their flagged prompts never read), half train, half
        # validate; the fifth round's (benign_fresh7.txt) retired the same way in the seventh.
        "fresh4567": [
            (t, False, RISKY_WEIGHT)
            for t in halves("benign_fresh4.txt", split)
            + halves("benign_fresh5.txt", split)
            + halves("benign_fresh6.txt", split)
            + halves("benign_fresh7.txt", split)
        ],
        # Ours, written for the detection round: DeepTeam-style families and questions to the model.
        "written": [(t, True, 1.0) for t in halves("attacks_written_train.txt", split)]
        + [(t, False, RISKY_WEIGHT) for t in halves("benign_written_train.txt", split)],
        # The second detection round's: long DeepTeam-style attacks, their benign look-alikes.
        "written2": [(t, True, 1.0) for t in halves("attacks_written2.txt", split)]
        + [(t, False, RISKY_WEIGHT) for t in halves("benign_written2.txt", split)],
        # The third round's: role-play, goal redirection, semantic manipulation, other languages,
        # oblique prompt extraction, and their benign look-alikes.
        "written3": [(t, True, 1.0) for t in halves("attacks_written3.txt", split)]
        + [(t, False, RISKY_WEIGHT) for t in halves("benign_written3.txt", split)],
    }
    if split == "train":
        out["tricky"] = [(t, False, RISKY_WEIGHT) for t in lines("benign_tricky.txt")]
    return out


def holdout(split: str) -> list[str]:
    """``benign_holdout.txt``, seen while the earlier layers were built."""
    return halves("benign_holdout.txt", split)


def halves(name: str, split: str) -> list[str]:
    """Odd lines of one of our benign files train, even lines validate."""
    return lines(name)[split == "validation" :: 2]


def windows(words: list[str]) -> list[list[str]]:
    """The windows the layer scores (``NgramModel.logit``): the whole text when short."""
    if len(words) <= WINDOW:
        return [words]
    last = len(words) - WINDOW
    return [words[s : s + WINDOW] for s in [*range(0, last, STRIDE), last]]


def examples(data: Iterable[Row]) -> tuple[list[list[str]], np.ndarray, np.ndarray]:
    """One example per window; a long text's windows share its weight. A text of one window has
    its first and last words' stems too (``edges``), as the layer scores it."""
    texts, labels, weights = [], [], []
    for text, attack, weight in data:
        words = words_of(text)
        found = windows(words)
        ends = edges(words) if len(words) <= WINDOW else []
        for window in found:
            texts.append(grams(window) + ends)
            labels.append(float(attack))
            weights.append(weight / len(found))
    return texts, np.array(labels), np.array(weights)


def fit(
    features: list[list[int]], y: np.ndarray, w: np.ndarray, size: int, l2: float, steps: int = 400
) -> tuple[np.ndarray, float]:
    """Weighted L2 logistic regression over count features, full-batch Adam."""
    row = np.repeat(np.arange(len(features)), [len(f) for f in features])
    col = np.concatenate([np.array(f, dtype=np.int64) for f in features])
    n, total = len(features), float(w.sum())
    beta, bias = np.zeros(size), 0.0
    m, v, mb, vb = np.zeros(size), np.zeros(size), 0.0, 0.0
    rate, b1, b2 = 0.05, 0.9, 0.999
    for step in range(1, steps + 1):
        z = np.bincount(row, weights=beta[col], minlength=n) + bias
        p = 1.0 / (1.0 + np.exp(-np.clip(z, -30.0, 30.0)))
        err = w * (p - y) / total
        grad = np.bincount(col, weights=err[row], minlength=size) + l2 * beta
        gb = float(err.sum())
        m, v = b1 * m + (1 - b1) * grad, b2 * v + (1 - b2) * grad * grad
        mb, vb = b1 * mb + (1 - b1) * gb, b2 * vb + (1 - b2) * gb * gb
        scale = rate * np.sqrt(1 - b2**step) / (1 - b1**step)
        beta -= scale * m / (np.sqrt(v) + 1e-8)
        bias -= scale * mb / (np.sqrt(vb) + 1e-8)
    return beta, bias


def long_prompts(texts: list[str], count: int = 200, size: int = 2048) -> list[str]:
    """2 KB prompts made of benign validation rows, as the latency benchmark builds them."""
    rng = random.Random(11)
    out = []
    for _ in range(count):
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < size:
            parts.append(rng.choice(texts))
        out.append(" ".join(parts)[:size])
    return out


def lowest(scores: list[float], budget: float) -> float:
    """The lowest threshold (on a 0.005 grid) that flags at most ``budget`` of ``scores``."""
    ranked = sorted(scores, reverse=True)
    allowed = int(budget * len(ranked))
    bar = ranked[allowed] if allowed < len(ranked) else 0.0  # flags the ``allowed`` above it
    return min(0.995, float(np.ceil((bar + 1e-9) * 200) / 200))


def choose(
    model: NgramModel, validation: dict[str, list[Row]], heuristics: InjectionDetector
) -> tuple[float, str]:
    """The threshold keeping every validation benign set within budget, and a report line."""
    bar = 0.5
    for data in validation.values():
        benign = [t for t, a, _ in data if not a]
        if not benign:
            continue
        left = [t for t in benign if heuristics.assess(t).score < 0.5]  # the rules' own alarms stay
        probs = [model.probability(words_of(t)) for t in left]
        added = max(1, int(ADDED_FP * len(benign)))
        bar = max(bar, lowest(probs, (added + 0.5) / len(left)))
    report = []
    for name, data in validation.items():
        attacks = [t for t, a, _ in data if a]
        hits = sum(
            heuristics.assess(t).score >= 0.5 or model.probability(words_of(t)) >= bar for t in attacks
        )
        benign = [t for t, a, _ in data if not a]
        fps = sum(heuristics.assess(t).score >= 0.5 or model.probability(words_of(t)) >= bar for t in benign)
        report.append(f"{name}: detect {hits}/{len(attacks)}, fp {fps}/{len(benign)}")
    return bar, "; ".join(report)


def _margins(candidates: dict[float, NgramModel], validation: dict[str, list[Row]]) -> tuple[float, str]:
    """The candidate with the highest validation detection rate minus false-positive rate on the
    risky-looking benign validation texts (every benign set but S-Labs'); ties go to the higher bar."""
    attacks = [t for data in validation.values() for t, a, _ in data if a]
    benign = [t for name, data in validation.items() if name != "slabs" for t, a, _ in data if not a]
    scored = {}
    for bar, model in candidates.items():
        detector = InjectionDetector(ngrams=model)
        hits = sum(detector.assess(t).score >= 0.5 for t in attacks)
        fps = sum(detector.assess(t).score >= 0.5 for t in benign)
        scored[bar] = (hits / len(attacks) - fps / len(benign), hits, fps)
    chosen = max(scored, key=lambda bar: (scored[bar][0], bar))
    report = ", ".join(f"{bar}: {hits}/{fps}" for bar, (_, hits, fps) in scored.items())
    return chosen, f"detections/false positives of {len(attacks)}/{len(benign)}: {report}"


def confirmation(model: NgramModel, validation: dict[str, list[Row]]) -> tuple[float, str]:
    """The confirmation bar with the best validation margin (``_margins``)."""
    return _margins({c: replace(model, confirm=c) for c in CONFIRMS}, validation)


def veto(model: NgramModel, validation: dict[str, list[Row]]) -> tuple[float, str]:
    """The veto (below it the phrase rules' evidence is damped by ``VETO_DAMP``) with the best
    validation margin, the confirmation bar already chosen."""
    return _margins({v: replace(model, veto=v, veto_damp=VETO_DAMP) for v in VETOES}, validation)


def agreement(model: NgramModel, validation: dict[str, list[Row]]) -> tuple[tuple[float, float], str]:
    """The pair of bars (this layer's probability, the vocabulary layer's score) from which their
    agreement counts in a short request: of the pairs that add at most ``AGREE_FP`` (one at
    least) false positives to the risky-looking benign validation texts and ``AGREE_SLABS_FP`` to
    S-Labs' benign validation rows, the one with the most validation detections (ties: the higher
    pair); the confirmation bar and veto already chosen. This layer's bar is at least the
    confirmation bar (below it the vocabulary layer is not consulted); off is (1.0, 1.0)."""
    attacks = [t for data in validation.values() for t, a, _ in data if a]
    risky = [t for name, data in validation.items() if name != "slabs" for t, a, _ in data if not a]
    plain = [t for t, a, _ in validation["slabs"] if not a]
    pairs = [(1.0, 1.0)] + [(a, f) for a in AGREES if a >= model.confirm for f in AGREE_FLOORS]
    counts = {}
    for a, f in pairs:
        detector = InjectionDetector(ngrams=replace(model, agree=a, agree_floor=f))
        counts[(a, f)] = tuple(
            sum(detector.assess(t).score >= 0.5 for t in texts) for texts in (attacks, risky, plain)
        )
    _, base_risky, base_plain = counts[(1.0, 1.0)]
    allowed = [
        pair
        for pair, (_, fps, plain_fps) in counts.items()
        if fps - base_risky <= max(1, int(AGREE_FP * len(risky)))
        and plain_fps - base_plain <= max(1, int(AGREE_SLABS_FP * len(plain)))
    ]
    chosen = max(allowed, key=lambda pair: (counts[pair][0], pair))
    report = ", ".join(
        f"{a}/{f}: {hits}/{fps}/{plain_fps}" for (a, f), (hits, fps, plain_fps) in counts.items()
    )
    return (
        chosen,
        f"detections/risky/S-Labs false positives of {len(attacks)}/{len(risky)}/{len(plain)}: {report}",
    )


def main() -> None:
    train = [row for data in rows("train").values() for row in data]
    validation = rows("validation")
    texts, y, w = examples(train)
    docs = Counter(g for t in texts for g in set(t))
    vocab = {g: i for i, g in enumerate(sorted(g for g, c in docs.items() if c >= MIN_DOCS))}
    features = [[vocab[g] for g in t if g in vocab] for t in texts]
    heuristics = InjectionDetector(learned=False)
    benign_val = [t for data in validation.values() for t, a, _ in data if not a and len(t) < 600]
    best: tuple[float, tuple[dict[str, float], NgramModel], str] | None = None
    for l2 in L2S:
        beta, bias = fit(features, y, w, len(vocab), l2)
        kept = {g: round(float(beta[i]), 3) for g, i in vocab.items() if abs(beta[i]) >= KEEP}
        model = NgramModel.of(kept, round(bias, 3), 1.0, 1.0)
        bar, report = choose(model, validation, heuristics)
        long_bar = max(
            bar, lowest([model.probability(words_of(t)) for t in long_prompts(benign_val)], LONG_BUDGET)
        )
        long_benign = long_prompts(benign_val) + [
            t for data in validation.values() for t, a, _ in data if not a and len(words_of(t)) > WINDOW
        ]
        mean_bar = lowest([model.probabilities(words_of(t))[1] for t in long_benign], MEAN_BUDGET)
        model = NgramModel.of(kept, round(bias, 3), bar, long_bar, mean_threshold=mean_bar)
        recall = sum(
            model.probability(words_of(t)) >= bar for data in validation.values() for t, a, _ in data if a
        )
        print(
            f"l2 {l2}: {len(kept)} weights, threshold {bar}, long {long_bar}, mean {mean_bar}, "
            f"validation recall {recall}; {report}"
        )
        if best is None or recall > best[0]:
            best = (recall, (kept, model), f"L2 {l2}")
    assert best is not None
    _, (kept, model), how = best
    confirm, report = confirmation(model, validation)
    print(f"validation choice: threshold {model.threshold}, confirmation bar {confirm}; {report}")
    model = replace(model, confirm=confirm)
    vetoed, report = veto(model, validation)
    model = replace(model, veto=vetoed, veto_damp=VETO_DAMP)
    print(f"veto {vetoed}; {report}")
    (agree, agree_floor), report = agreement(model, validation)
    model = replace(model, agree=agree, agree_floor=agree_floor)
    print(f"agreement {agree}, {agree_floor}; {report}")
    if OPERATING_POINT is not None:
        threshold, confirm = OPERATING_POINT
        long_bar = max(threshold, model.long_threshold)
        model = replace(model, threshold=threshold, long_threshold=long_bar, confirm=confirm)
        how += f"; operating point threshold {threshold}, confirmation {confirm} set by hand"
        print(f"shipped operating point: threshold {threshold}, confirmation bar {confirm}")
    WEIGHTS_FILE.write_text(
        json.dumps(
            {
                "about": f"Fitted by python -m eval.train_ngrams ({how}, train splits only); do not edit by hand.",
                "bias": model.bias,
                "threshold": model.threshold,
                "long_threshold": model.long_threshold,
                "confirm": confirm,
                "veto": model.veto,
                "veto_damp": model.veto_damp,
                "mean_threshold": model.mean_threshold,
                "agree": model.agree,
                "agree_floor": model.agree_floor,
                "weights": dict(sorted(kept.items())),
            },
            separators=(",", ":"),
        )
        + "\n",
        encoding="utf-8",
    )
    print(f"wrote {WEIGHTS_FILE} ({how})")


if __name__ == "__main__":
    main()
