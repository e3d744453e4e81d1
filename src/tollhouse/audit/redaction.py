"""What the content store keeps of a prompt or completion, per the content mode.

``full`` keeps the bytes as they were; ``redacted`` masks credentials (the gateway's
redactor: known secret values and key shapes) and personal data shapes (e-mail addresses,
long digit runs such as card, account or phone numbers); ``digest`` keeps nothing.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from tollhouse.config.secrets import Secret
from tollhouse.observability.redact import Redactor

_PII = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"  # e-mail addresses
    r"|\+?\d(?:[ \-.]?\d){8,}"  # 9+ digits, maybe spaced: cards, IBAN tails, phone numbers
)
PII_MASK = "[PII]"


class ContentRedactor:
    """Masks secrets and personal-data shapes in text (``redacted`` content mode).

    Given the config's list of resolved secrets instead of a ``Redactor``, it builds one on
    first use: the audit section is compiled before others that add secrets (identity, guards,
    cache, limits), and by the first record the list holds them all."""

    def __init__(self, secrets: Redactor | Sequence[Secret]) -> None:
        self._secrets = secrets if isinstance(secrets, Redactor) else None
        self._pending = None if isinstance(secrets, Redactor) else secrets

    def redact(self, data: bytes) -> bytes:
        if self._secrets is None:
            self._secrets = Redactor(s.reveal() for s in self._pending or ())
            self._pending = None
        text = data.decode("utf-8", "replace")
        return _PII.sub(PII_MASK, self._secrets.scrub(text)).encode("utf-8")
