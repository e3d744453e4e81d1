"""Measure the built-in detectors on the evaluation set: ``python -m eval.run [--write]``.

Per category it reports detection rate (attacks) or false-positive rate (benign texts),
recall and precision per entity (PII, secrets), and detector latency per sample. With
``--write`` the tables go to ``eval/RESULTS.md`` (docs/guardrails.md quotes them).
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

from eval.injection_set import attacks_and_benign
from eval.pii_set import pii_samples
from eval.secrets_set import secret_samples
from tollhouse.guards.detector import CallState, Detector
from tollhouse.guards.detectors.injection import InjectionDetector
from tollhouse.guards.detectors.pii import PIIDetector
from tollhouse.guards.detectors.secrets import SecretsDetector
from tollhouse.guards.verdict import Scope

RESULTS = Path(__file__).parent / "RESULTS.md"


def _timed(fn: Callable[[], object]) -> tuple[object, float]:
    started = time.perf_counter()
    result = fn()
    return result, (time.perf_counter() - started) * 1e6


def _lat(values: list[float]) -> str:
    if not values:
        return "-"
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    return f"{statistics.median(values):.0f} / {p95:.0f}"


def injection_table(detector: Detector) -> list[str]:
    state = CallState()
    samples = attacks_and_benign(lambda t: bool(detector.detect(t, Scope.USER, state)))
    rows: dict[str, list[tuple[bool, float]]] = defaultdict(list)
    variants: dict[tuple[str, str], list[bool]] = defaultdict(list)
    for s in samples:
        found, micros = _timed(lambda s=s: detector.detect(s.text, s.scope, state))  # type: ignore[misc]
        rows[s.category].append((bool(found), micros))
        if s.variant:
            variants[(s.category, s.variant)].append(bool(found))
    lines = ["| category | samples | flagged | rate | latency µs p50 / p95 |", "|---|---:|---:|---:|---:|"]
    kinds = {s.category: s.attack for s in samples}
    for category, results in rows.items():
        flagged = sum(f for f, _ in results)
        what = "detection" if kinds[category] else "false positives"
        lines.append(
            f"| {category} ({what}) | {len(results)} | {flagged} | {flagged / len(results):.1%} | "
            f"{_lat([m for _, m in results])} |"
        )
    lines += ["", "| variant | samples | detected |", "|---|---:|---:|"]
    for (category, variant), found in sorted(variants.items()):
        lines.append(f"| {category}: {variant} | {len(found)} | {sum(found) / len(found):.1%} |")
    return lines


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def pii_table(detector: PIIDetector) -> list[str]:
    state = CallState()
    tp: dict[str, int] = defaultdict(int)
    fn: dict[str, int] = defaultdict(int)
    fp: dict[str, int] = defaultdict(int)
    latency: list[float] = []
    for sample in pii_samples():
        found, micros = _timed(lambda s=sample: detector.detect(s.text, Scope.USER, state))  # type: ignore[misc]
        latency.append(micros)
        findings = [(f.kind, f.start, f.end) for f in found]  # type: ignore[attr-defined]
        for entity, start, end in sample.spans:
            hit = any(k == entity and _overlaps((s, e), (start, end)) for k, s, e in findings)
            tp[entity] += hit
            fn[entity] += not hit
        for kind, start, end in findings:
            expected = [*sample.spans, *sample.neutral]
            if not any(k == kind and _overlaps((s, e), (start, end)) for k, s, e in expected):
                fp[kind] += 1
    lines = ["| entity | planted | recall | precision |", "|---|---:|---:|---:|"]
    for entity in sorted({*tp, *fn, *fp}):
        planted = tp[entity] + fn[entity]
        recall = tp[entity] / planted if planted else float("nan")
        flagged = tp[entity] + fp[entity]
        precision = tp[entity] / flagged if flagged else float("nan")
        lines.append(f"| {entity} | {planted} | {recall:.1%} | {precision:.1%} |")
    total_tp, total_fn, total_fp = sum(tp.values()), sum(fn.values()), sum(fp.values())
    lines.append(
        f"| **all** | {total_tp + total_fn} | {total_tp / (total_tp + total_fn):.1%} | "
        f"{total_tp / (total_tp + total_fp):.1%} |"
    )
    lines.append(f"\nLatency per sentence (µs p50 / p95): {_lat(latency)}")
    return lines


def secrets_table(detector: SecretsDetector) -> list[str]:
    state = CallState()
    tp = fn = fp = 0
    missed: dict[str, int] = defaultdict(int)
    latency: list[float] = []
    samples = secret_samples()
    for sample in samples:
        found, micros = _timed(lambda s=sample: detector.detect(s.text, Scope.USER, state))  # type: ignore[misc]
        latency.append(micros)
        spans = [sample.text[f.start : f.end] for f in found]  # type: ignore[attr-defined]
        if sample.secret is None:
            fp += len(spans)
            continue
        hit = any(span and (span in sample.secret or sample.secret in span) for span in spans)
        tp += hit
        fn += not hit
        fp += sum(1 for span in spans if not (span in sample.secret or sample.secret in span))
        if not hit:
            missed[sample.kind] += 1
    positives = sum(1 for s in samples if s.secret is not None)
    lines = [
        "| planted secrets | negatives | recall | precision | latency µs p50 / p95 |",
        "|---:|---:|---:|---:|---:|",
        f"| {positives} | {len(samples) - positives} | {tp / (tp + fn):.1%} | {tp / max(1, tp + fp):.1%} | "
        f"{_lat(latency)} |",
    ]
    if missed:
        lines.append(f"\nMissed kinds: {dict(missed)}")
    return lines


def _ml_section() -> list[str]:
    from tollhouse.guards.ml.classifier import ClassifierInjectionDetector

    return [
        "## Prompt injection with the ml extra (heuristics, then the MiniLM classifier)",
        "",
        *injection_table(ClassifierInjectionDetector(InjectionDetector())),
        "",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--write", action="store_true", help="write eval/RESULTS.md")
    parser.add_argument("--ml", action="store_true", help="also measure the ml extra's classifier")
    args = parser.parse_args()
    out = [
        "# Guardrail evaluation results",
        "",
        f"`python -m eval.run --write` on {platform.python_implementation()} {platform.python_version()}, "
        f"{platform.machine()}; latency is one detector call per sample, single thread.",
        "",
        "## Prompt injection and jailbreak (heuristics, default thresholds 0.5 / 0.35 indirect)",
        "",
        *injection_table(InjectionDetector()),
        "",
        *(_ml_section() if args.ml else []),
        "## PII (presidio-evaluator templates filled with Faker; valid formats)",
        "",
        *pii_table(PIIDetector()),
        "",
        "## Secrets",
        "",
        *secrets_table(SecretsDetector()),
        "",
    ]
    text = "\n".join(out)
    print(text)
    if args.write:
        RESULTS.write_text(text, encoding="utf-8")


if __name__ == "__main__":
    main()
