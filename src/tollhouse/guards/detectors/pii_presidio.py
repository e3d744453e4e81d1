"""Names, organisations and locations, through Microsoft Presidio (the ``presidio`` extra).

The validated detectors (``pii.py``) find values with a format; names have none, so they
take a named-entity model: Presidio's analyzer over a spaCy pipeline that is installed as a
Python package (``ner_model``, e.g. ``en_core_web_sm``). Nothing is downloaded at run time:
Presidio would fetch a missing pipeline itself, so the pipeline is checked first and a
missing one is a config error. The pipeline takes milliseconds per text, so a guard that
uses it runs in a worker thread; calls are serialised (one pipeline, one thread at a time).
"""

from __future__ import annotations

import threading
from typing import Any

from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.pii import PIIDetector
from tollhouse.guards.detectors.secrets import drop_overlaps
from tollhouse.guards.verdict import Finding, Scope

NER_ENTITIES = frozenset({"PERSON", "ORGANIZATION", "LOCATION"})
INSTALL = "pip install 'tollhouse[presidio]' and a spaCy pipeline package such as en_core_web_sm"


def _analyzer(model: str) -> Any:
    """Presidio's analyzer over the installed spaCy pipeline ``model`` (ValueError if absent)."""
    try:
        import spacy  # type: ignore[import-not-found,unused-ignore]
        from presidio_analyzer import (  # type: ignore[import-not-found,unused-ignore]
            AnalyzerEngine,
            RecognizerRegistry,
        )
        from presidio_analyzer.nlp_engine import (  # type: ignore[import-not-found,unused-ignore]
            NerModelConfiguration,
            SpacyNlpEngine,
        )
        from presidio_analyzer.predefined_recognizers import (  # type: ignore[import-not-found,unused-ignore]
            SpacyRecognizer,
        )
    except ImportError:
        raise ValueError(f"PERSON, ORGANIZATION and LOCATION need the presidio extra: {INSTALL}") from None
    if not spacy.util.is_package(model):
        raise ValueError(
            f"the spaCy pipeline {model!r} is not installed (ner_model); install it as a package — "
            "nothing is downloaded at run time"
        )
    # Presidio ignores ORGANIZATION by default (false positives); it is asked for here only
    # when a guard lists it.
    ner = NerModelConfiguration(labels_to_ignore=["CARDINAL", "ORDINAL", "QUANTITY", "MONEY", "PERCENT"])
    engine = SpacyNlpEngine(models=[{"lang_code": "en", "model_name": model}], ner_model_configuration=ner)
    engine.load()
    # Only the NER recognizer: the validated detectors already cover values with a format.
    registry = RecognizerRegistry(
        recognizers=[SpacyRecognizer(supported_entities=sorted(NER_ENTITIES))], supported_languages=["en"]
    )
    return AnalyzerEngine(registry=registry, nlp_engine=engine, supported_languages=["en"])


class PresidioNames:
    """PERSON, ORGANIZATION and LOCATION spans, as Presidio's NER recognizer reports them."""

    name = "pii_presidio"

    def __init__(self, entities: frozenset[str], model: str, threshold: float) -> None:
        self._entities = sorted(entities & NER_ENTITIES)
        self._threshold = threshold
        self._analyzer = _analyzer(model)
        self._lock = threading.Lock()

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        if not text.strip():
            return []
        with self._lock:
            results = self._analyzer.analyze(text, language="en", entities=self._entities)
        return [
            Finding(r.entity_type, r.start, r.end, round(float(r.score), 3))
            for r in sorted(results, key=lambda r: r.start)
            if r.score >= self._threshold
        ]


class PIIWithNames:
    """The validated detectors, then names: a value with a format wins an overlap."""

    name = "pii"
    pure = True  # findings depend on the text and scope alone (``guards/memo.py``)

    def __init__(self, validated: PIIDetector, names: PresidioNames) -> None:
        self._validated = validated
        self._names = names

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        found = self._validated.detect(text, scope, state) + self._names.detect(text, scope, state)
        return drop_overlaps(found) if len(found) > 1 else found
