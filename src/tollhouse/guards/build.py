"""Config → guards: each detector built once, its patterns compiled at config time."""

from __future__ import annotations

from tollhouse.config.load import ConfigIssue
from tollhouse.config.secrets import Secret, SecretError
from tollhouse.guards import ml
from tollhouse.guards.config import (
    CanaryGuard,
    ExfiltrationGuard,
    GuardConfig,
    GuardrailPolicyConfig,
    InjectionGuard,
    KeywordsGuard,
    PIIGuard,
    SchemaGuard,
    SecretsGuard,
    TopicsGuard,
    WebhookGuard,
)
from tollhouse.guards.detector import Detector
from tollhouse.guards.detectors.canary import CanaryDetector
from tollhouse.guards.detectors.exfiltration import ExfiltrationDetector
from tollhouse.guards.detectors.injection import InjectionDetector
from tollhouse.guards.detectors.keywords import KeywordDetector
from tollhouse.guards.detectors.pii import ENTITIES, PIIDetector
from tollhouse.guards.detectors.pii_presidio import NER_ENTITIES, PIIWithNames, PresidioNames
from tollhouse.guards.detectors.schema import SchemaDetector, check_schema
from tollhouse.guards.detectors.secret_rules import RULES as SECRET_RULES
from tollhouse.guards.detectors.secrets import SecretsDetector
from tollhouse.guards.guard import DEFAULT_SCOPES, AnyGuard, Guard, RemoteGuard
from tollhouse.guards.verdict import Action, Scope
from tollhouse.guards.webhook import WebhookClient
from tollhouse.upstream.pool import UpstreamPool

_SECRET_KINDS = frozenset(r.kind for r in SECRET_RULES)


def detector(config: GuardConfig) -> Detector:
    """The detector a guard's config describes; ``ValueError`` when its options are wrong."""
    if isinstance(config, InjectionGuard):
        heuristics = InjectionDetector(config.threshold, config.indirect_threshold, learned=config.learned)
        if config.classifier is None:
            return heuristics
        if absent := ml.missing():
            raise ValueError(
                f"classifier: minilm needs the ml extra ({ml.INSTALL}); missing: {', '.join(absent)}"
            )
        from tollhouse.guards.ml.classifier import ClassifierInjectionDetector

        return ClassifierInjectionDetector(heuristics, config.classifier_threshold)
    if isinstance(config, PIIGuard):
        entities = frozenset(config.entities) if config.entities is not None else ENTITIES
        if unknown := entities - ENTITIES - NER_ENTITIES:
            raise ValueError(
                f"unknown PII entities {sorted(unknown)}; known: {sorted(ENTITIES | NER_ENTITIES)}"
            )
        validated = PIIDetector(entities & ENTITIES, tuple(config.phone_regions))
        if not entities & NER_ENTITIES:
            return validated
        names = PresidioNames(entities, config.ner_model, config.ner_threshold)  # the presidio extra
        return PIIWithNames(validated, names)
    if isinstance(config, SecretsGuard):
        kinds = frozenset(config.kinds) if config.kinds is not None else None
        if kinds is not None and (unknown := kinds - _SECRET_KINDS):
            raise ValueError(f"unknown secret kinds {sorted(unknown)}; known: {sorted(_SECRET_KINDS)}")
        return SecretsDetector(kinds)
    if isinstance(config, ExfiltrationGuard):
        hosts = frozenset(h.lower().strip(".") for h in config.allow_hosts)
        return ExfiltrationDetector(hosts, config.block_all_images)
    if isinstance(config, CanaryGuard):
        return CanaryDetector()
    if isinstance(config, KeywordsGuard):
        return KeywordDetector(config.keywords, config.patterns, config.topics)
    if isinstance(config, TopicsGuard):
        if absent := ml.missing():
            raise ValueError(f"topics needs the ml extra ({ml.INSTALL}); missing: {', '.join(absent)}")
        from tollhouse.guards.ml.topics import SemanticTopicDetector

        return SemanticTopicDetector(config.examples, config.threshold)
    if isinstance(config, SchemaGuard):
        if config.json_schema is not None:
            check_schema(config.json_schema)
        return SchemaDetector(config.json_schema)
    raise ValueError(f"guard type {config.type} has no local detector")


def build_guards(
    policy: GuardrailPolicyConfig,
    pool: UpstreamPool,
    path: str,
    issues: list[ConfigIssue],
    secrets: list[Secret],
) -> tuple[AnyGuard, ...]:
    """The policy's guards; problems go to ``issues`` (each under its config path)."""
    built: list[AnyGuard] = []
    for i, config in enumerate(policy.guards):
        where = f"{path}.guards.{i}"
        stages = frozenset(config.stages if config.stages is not None else policy.stages)
        scopes = (
            frozenset(Scope(s) for s in config.scopes)
            if config.scopes is not None
            else DEFAULT_SCOPES[config.type]
        )
        fail_open = (config.on_error or policy.on_error) == "fail_open"
        action = Action(config.action)
        name = config.id or config.type
        if isinstance(config, WebhookGuard):
            headers: dict[str, Secret] = {}
            for key, ref in config.headers.items():
                try:
                    headers[key] = ref.resolve()
                except SecretError as exc:
                    issues.append(ConfigIssue(f"{where}.headers.{key}", str(exc)))
                    continue
                secrets.append(headers[key])
            client = WebhookClient(config.url, headers, config.timeout_ms, pool)
            built.append(RemoteGuard(name, config.type, client, action, stages, scopes, fail_open))
            continue
        try:
            found = detector(config)
        except ValueError as exc:
            issues.append(ConfigIssue(where, str(exc)))
            continue
        offload = (
            isinstance(config, TopicsGuard)
            or (isinstance(config, InjectionGuard) and config.classifier is not None)
            or isinstance(found, PIIWithNames)  # a spaCy pipeline: milliseconds
        )
        built.append(Guard(name, config.type, found, action, stages, scopes, fail_open, offload))
    return tuple(built)
