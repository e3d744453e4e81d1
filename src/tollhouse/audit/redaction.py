"""What the content store keeps of a prompt or completion, per the content mode.

``full`` keeps the bytes as they were; ``redacted`` masks credentials (the gateway's
redactor: known secret values and key shapes) and personal data shapes (e-mail addresses,
long digit runs such as card, account or phone numbers); ``digest`` keeps nothing.
"""

from __future__ import annotations

import re

from tollhouse.observability.redact import Redactor

_PII = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"  # e-mail addresses
    r"|\+?\d(?:[ \-.]?\d){8,}"  # 9+ digits, maybe spaced: cards, IBAN tails, phone numbers
)
PII_MASK = "[PII]"


class ContentRedactor:
    """Masks secrets and personal-data shapes in text (``redacted`` content mode)."""

    def __init__(self, secrets: Redactor) -> None:
        self._secrets = secrets

    def redact(self, data: bytes) -> bytes:
        text = data.decode("utf-8", "replace")
        return _PII.sub(PII_MASK, self._secrets.scrub(text)).encode("utf-8")
