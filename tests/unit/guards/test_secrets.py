"""Secrets: each provider's format is found; look-alikes and placeholders are not."""

from __future__ import annotations

import re

import pytest

from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.secrets import SecretsDetector
from tollhouse.guards.verdict import Scope

DETECTOR = SecretsDetector()
JWT = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"


def _kinds(text: str) -> list[tuple[str, str]]:
    return [(f.kind, text[f.start : f.end]) for f in DETECTOR.detect(text, Scope.USER, CallState())]


@pytest.mark.parametrize(
    ("kind", "secret"),
    [
        ("OPENAI_KEY", "sk-proj-" + "Ab3dEf6hIj9kLm2nOp5qRs8tUv1wXy4zAb7cDe0fGh3iJk6l"),
        ("ANTHROPIC_KEY", "sk-ant-api03-" + "x1Y2z3" * 15),
        ("AWS_ACCESS_KEY", "AKIAIOSFODNN7EXAMPLE"),
        ("GCP_API_KEY", "AIzaSyD-9tSrke72PouQMnMX-a7eZSW0jkFMBWY"),
        ("GITHUB_TOKEN", "ghp_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8"),
        ("GITLAB_TOKEN", "glpat-xY9zA8bC7dE6fG5hI4jK"),
        ("SLACK_TOKEN", "xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx"),
        ("STRIPE_KEY", "sk_live_" + "4eC39HqLyjWDarjtT1zdp7dc"),
        ("SENDGRID_KEY", "SG." + "a" * 22 + "." + "b" * 43),
        ("NPM_TOKEN", "npm_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"),
        ("HUGGINGFACE_TOKEN", "hf_" + "AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEfGh"),
        ("JWT", JWT),
    ],
)
def test_provider_formats(kind: str, secret: str) -> None:
    assert _kinds(f"here: {secret} (do not share)") == [(kind, secret)]


def test_private_key_block() -> None:
    pem = "-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----"
    assert _kinds(f"key:\n{pem}\nthanks") == [("PRIVATE_KEY", pem)]


def test_contextual_secrets() -> None:
    assert _kinds("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY") == [
        ("AWS_SECRET_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    ]
    assert _kinds("DATABASE_URL=postgres://app:Tr0ub4dor&3@db.internal:5432/app") == [
        ("CONNECTION_PASSWORD", "Tr0ub4dor&3")
    ]
    assert _kinds('config = {"password": "c0rrect-h0rse"}') == [("PASSWORD", "c0rrect-h0rse")]
    azure = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
    assert _kinds(f"DefaultEndpointsProtocol=https;AccountName=x;AccountKey={azure};EndpointSuffix=core") == [
        ("AZURE_STORAGE_KEY", azure)
    ]
    assert _kinds('api_key: "Zk3j9dkeLq02mXnBv81Pq7Ws"') == [("SECRET", "Zk3j9dkeLq02mXnBv81Pq7Ws")]


@pytest.mark.parametrize(
    "text",
    [
        'password = os.environ["DB_PASSWORD"]',
        "def login(user, password): return check(user, password)",
        'password: "password"',
        "postgres://user:${DB_PASS}@localhost/db",
        "postgres://user:<password>@localhost/db",
        "api_key = settings.OPENAI_API_KEY",
        "token: aaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        "eyJub3QiOiJhIGp3dCJ9.eyJzdWIiOiIxIn0.abcdefghijklmnopq",  # header names no alg
        "the sk-learn library and task-ant-api lists",
    ],
)
def test_look_alikes_are_not_secrets(text: str) -> None:
    assert _kinds(text) == []


def test_kinds_can_be_narrowed() -> None:
    only_jwt = SecretsDetector(frozenset({"JWT"}))
    text = f"AKIAIOSFODNN7EXAMPLE {JWT}"
    assert [f.kind for f in only_jwt.detect(text, Scope.USER, CallState())] == ["JWT"]


@pytest.mark.parametrize(
    ("text", "kind", "secret"),
    [
        # Key-word rules are tried only when the text holds what their matches need (an "=" or
        # ":", a quote, a token that long): the layouts such matches come in are still found.
        ("password:\n  'hunter2-Xy9'", "PASSWORD", "hunter2-Xy9"),
        ("password\u3000=\u3000'hunter22!'", "PASSWORD", "hunter22!"),
        ('"client_secret" => "Q29kZS1zZWNyZXQtMTIz4567"', "SECRET", "Q29kZS1zZWNyZXQtMTIz4567"),
        ("Bearer:\tAbCdEf0123456789GhIjKl", "SECRET", "AbCdEf0123456789GhIjKl"),
        (
            "aws_secret_access_key:\u00a0wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
            "AWS_SECRET_KEY",
            "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        ),
    ],
)
def test_key_word_secrets_in_any_layout(text: str, kind: str, secret: str) -> None:
    assert _kinds(text) == [(kind, secret)]
    # In a long text the rules first check what a match needs: the same secret is found.
    prose = "An ordinary paragraph about the weather, the garden and a long walk by the river. " * 3
    assert _kinds(f"{prose}\n{text}\n{prose}") == [(kind, secret)]


def test_key_word_rules_declare_what_every_match_needs() -> None:
    from tollhouse.guards.detectors.secret_rules import RULES

    samples = [
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "AccountKey="
        + "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
        'password = "c0rrect-h0rse"',
        'api_key: "Zk3j9dkeLq02mXnBv81Pq7Ws"',
    ]
    gated = {rule.kind for rule in RULES if rule.needs or rule.run[1]}
    matched = set()
    for rule in RULES:
        for text in samples:
            for match in rule.pattern.finditer(text):
                found = match.group()
                assert all(any(c in found for c in chars) for chars in rule.needs), rule.kind
                chars, length = rule.run
                assert re.search(f"[{re.escape(chars)}]{{{length}}}", found) if length else True, rule.kind
                matched.add(rule.kind)
    assert gated == {"AWS_SECRET_KEY", "AZURE_STORAGE_KEY", "PASSWORD", "SECRET"} <= matched


def test_one_scan_finds_the_gate_words_only_when_they_cannot_overlap() -> None:
    from tollhouse.guards.detectors.secrets import gate_scan

    scan = gate_scan(("pass", "pwd"))
    assert scan is not None
    assert [(m.group(), m.start()) for m in scan.finditer("pwdpass passpwd")] == [
        ("pwd", 0),
        ("pass", 3),
        ("pass", 8),
        ("pwd", 12),
    ]
    assert gate_scan(("aws", "secret")) is None  # "awsecret": a scan would miss "secret"
    assert gate_scan(("sk-", "sk-ant-")) is None  # one inside the other
    assert gate_scan(("abab",)) is None  # overlaps itself: "ababab"


def test_runs_are_looked_for_in_long_tokens_or_in_the_whole_text() -> None:
    from tollhouse.guards.detectors.secret_rules import SecretRule

    # A run of 16+ key characters lies in one long token: found there, in prose of any script.
    prose = "Caf\u00e9 notes \u2014 ordinary words, nothing long, the weather and a walk by the river. " * 3
    for text in (
        "aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        "api_key: Zk3j9dkeLq02mXnBv81Pq7Ws",
        "AccountKey="
        + "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==",
    ):
        assert len(_kinds(f"{prose}{text}\n{prose}")) == 1, text
    assert _kinds(f"{prose} api_key: Zk3j9dkeLq02 mXnBv81Pq7Ws") == []  # the run is broken
    # A rule whose run is shorter than a long token (an extra rule) reads the whole text.
    pin = SecretRule(
        "PIN", re.compile(r"(?i:pin)\s*=\s*(\d{6})\b"), None, 1, ("pin",), True, ("=",), ("0123456789", 6)
    )
    detector = SecretsDetector(frozenset({"PIN"}), (pin,))
    text = f"{prose} pin = 493027 {prose}"
    assert [(f.kind, text[f.start : f.end]) for f in detector.detect(text, Scope.USER, CallState())] == [
        ("PIN", "493027")
    ]
