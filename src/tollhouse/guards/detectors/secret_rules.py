"""Credential shapes: one rule per provider, each a pattern and, where one exists, a check.

Patterns follow the public formats each provider documents and the rule sets maintained by
detect-secrets (Yelp, Apache-2.0) and gitleaks (MIT), tightened with validation: JWT
headers must decode to JSON naming an ``alg``, generic tokens need a key word before them
and enough entropy, connection-string passwords must not be placeholders.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import orjson

Check = Callable[[str], bool]


@dataclass(frozen=True, slots=True)
class SecretRule:
    kind: str  # the placeholder type, e.g. AWS_ACCESS_KEY
    pattern: re.Pattern[str]
    check: Check | None = None
    group: int = 0  # the capture group holding the secret (0: the whole match)
    # The rule runs only when one of these strings occurs: a substring test is far cheaper
    # than a regex scan that finds nothing. ``lower`` rules start with a key word in any
    # case: they are tried only where a gate word occurs in the lower-cased text.
    gate: tuple[str, ...] = ()
    lower: bool = False
    # What every match holds, tested before the gate words are looked for: for each string in
    # ``needs`` one of its characters, and ``run`` (characters, length): that many in a row
    # of those (ASCII) characters, the value the rule captures.
    needs: tuple[str, ...] = ()
    run: tuple[str, int] = ("", 0)


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def _jwt(token: str) -> bool:
    header = token.split(".", 1)[0]
    try:
        data = orjson.loads(base64.urlsafe_b64decode(header + "=" * (-len(header) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError):
        return False
    return isinstance(data, dict) and "alg" in data


_PLACEHOLDERS = frozenset({"password", "passwd", "pass", "pwd", "secret", "changeme", "xxx", "xxxx", "user"})


def _real_password(value: str) -> bool:
    lowered = value.lower()
    if lowered in _PLACEHOLDERS or lowered.strip("*x.") == "" or value[0] in "$<{%[(":
        return False
    return not (value.startswith("<") and value.endswith(">"))


def _high_entropy(value: str) -> bool:
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return has_digit and has_alpha and entropy(value) >= 3.7


def _literal_secret(value: str) -> bool:
    return _real_password(value) and not value.isalpha() and entropy(value) >= 2.5


def _r(
    kind: str,
    gate: str,
    pattern: str,
    check: Check | None = None,
    group: int = 0,
    lower: bool = False,
    needs: tuple[str, ...] = (),
    run: tuple[str, int] = ("", 0),
) -> SecretRule:
    return SecretRule(kind, re.compile(pattern), check, group, tuple(gate.split()), lower, needs, run)


_ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
_B64 = _ALNUM + "/+"
_KEY_WORD = r"(?:api[_-]?key|apikey|secret(?:[_-]?key)?|access[_-]?token|auth[_-]?token|token|client[_-]?secret|private[_-]?key|credential|bearer)"

RULES: tuple[SecretRule, ...] = (
    _r(
        "PRIVATE_KEY",
        "PRIVATE",
        r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |PGP |ENCRYPTED |SSH2 ENCRYPTED )?PRIVATE KEY(?: BLOCK)?-----(?:[\s\S]{0,10000}?-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----)?",
    ),
    _r("ANTHROPIC_KEY", "sk-ant-", r"\bsk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_-]{32,}"),
    _r(
        "OPENAI_KEY",
        "sk-",
        r"\bsk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_-]{32,}|\bsk-[A-Za-z0-9]{20}T3BlbkFJ[A-Za-z0-9]{20}\b|\bsk-[A-Za-z0-9]{48}\b",
    ),
    _r(
        "AWS_ACCESS_KEY",
        "A3T AKIA ASIA ABIA ACCA AGPA AIDA AROA ANPA ANVA AIPA",
        r"\b(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AROA|ANPA|ANVA|AIPA)[A-Z2-7]{16}\b",
    ),
    _r(
        "AWS_SECRET_KEY",
        "aws secret",
        r"(?i:aws.{0,30}?(?:secret|key)|secret[_-]?access[_-]?key)[^A-Za-z0-9/+]{1,30}?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])",
        _high_entropy,
        1,
        lower=True,
        run=(_B64, 40),
    ),
    _r("GCP_API_KEY", "AIza", r"\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])"),
    _r("GCP_OAUTH_TOKEN", "ya29.", r"\bya29\.[0-9A-Za-z_-]{30,}"),
    _r("GCP_SERVICE_ACCOUNT", "private_key_id", r'"private_key_id"\s*:\s*"([0-9a-f]{40})"', None, 1),
    _r(
        "AZURE_STORAGE_KEY",
        "accountkey sharedaccesskey",
        r"(?i:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{42,86}==?)",
        None,
        1,
        lower=True,
        needs=("=",),
        run=(_B64, 42),
    ),
    _r(
        "AZURE_CLIENT_SECRET",
        "Q~",
        r"(?<![A-Za-z0-9_~.-])[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}(?![A-Za-z0-9_~.-])",
    ),
    _r(
        "GITHUB_TOKEN",
        "ghp_ gho_ ghu_ ghs_ ghr_ github_pat_",
        r"\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{82}\b",
    ),
    _r(
        "GITLAB_TOKEN",
        "glpat- gldt- glft- glsoat- glrt- glptt- glcbt-",
        r"\b(?:glpat|gldt|glft|glsoat|glrt|glptt|glcbt)-[A-Za-z0-9_-]{20,64}(?![A-Za-z0-9_-])",
    ),
    _r("SLACK_TOKEN", "xox", r"\bxox[abposre]-(?:\d+-)+[A-Za-z0-9-]{10,}"),
    _r(
        "SLACK_WEBHOOK",
        "hooks.slack.com",
        r"https://hooks\.slack\.com/(?:services|workflows)/T[A-Za-z0-9_]+/[AB][A-Za-z0-9_]+/[A-Za-z0-9_]{20,}",
    ),
    _r("STRIPE_KEY", "_live_ _test_", r"\b(?:sk|rk)_(?:live|test)_[0-9A-Za-z]{24,99}\b"),
    _r("SENDGRID_KEY", "SG.", r"\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}\b"),
    _r("TWILIO_KEY", "SK", r"\bSK[0-9a-f]{32}\b"),
    _r("NPM_TOKEN", "npm_", r"\bnpm_[A-Za-z0-9]{36}\b"),
    _r("PYPI_TOKEN", "pypi-", r"\bpypi-AgE[A-Za-z0-9_-]{50,}"),
    _r("HUGGINGFACE_TOKEN", "hf_", r"\bhf_[A-Za-z]{34}\b"),
    _r("TELEGRAM_TOKEN", ":AA", r"\b\d{8,10}:AA[0-9A-Za-z_-]{33}\b"),
    _r("MAILCHIMP_KEY", "-us", r"\b[0-9a-f]{32}-us\d{1,2}\b"),
    _r("SHOPIFY_TOKEN", "shpat_ shpca_ shppa_ shpss_", r"\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}\b"),
    _r("DIGITALOCEAN_TOKEN", "_v1_", r"\bdo[pro]_v1_[a-f0-9]{64}\b"),
    _r("JWT", "eyJ", r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}", _jwt),
    _r(
        "CONNECTION_PASSWORD",
        "://",
        r"\b[a-zA-Z][a-zA-Z0-9+.-]{1,20}://[^\s:/@'\"]{1,64}:([^\s@/'\"]{3,128})@[^\s/'\"]+",
        _real_password,
        1,
    ),
    _r(
        "PASSWORD",
        "pass pwd",
        r"(?i:\b(?:password|passwd|pwd|passphrase)\b)[\"']?\s*(?:=|:|=>|:=)\s*[\"']([^\"'\s]{6,128})[\"']",
        _literal_secret,
        1,
        lower=True,
        needs=("=:", "\"'"),
    ),
    _r(
        "SECRET",
        "api secret access auth token client private credential bearer",
        rf"(?i:\b{_KEY_WORD}\b)[\"']?\s*(?:=|:|=>|:=)\s*[\"']?([A-Za-z0-9_\-/+=.]{{20,256}})",
        _high_entropy,
        1,
        lower=True,
        needs=("=:",),
        run=(_ALNUM + "_-/+=.", 20),
    ),
)
