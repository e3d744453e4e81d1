"""What the content store keeps of a prompt or completion, per the content mode.

``full`` keeps the bytes as they were; ``redacted`` masks credentials (the gateway's
redactor: known secret values and key shapes) and personal data shapes (e-mail addresses,
long digit runs such as card, account or phone numbers); ``digest`` keeps nothing.

When a guard redacted the prompt, ``redacted`` keeps the prompt as forwarded. A guard may put
the values back into the answer for the caller (``restore_redactions``), so the words the
guard took out of the prompt (``removed_words``) are masked in the stored answer as well.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Collection, Sequence

import orjson

from tollhouse.config.secrets import Secret
from tollhouse.observability.redact import Redactor

_PII = re.compile(
    r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}"  # e-mail addresses
    r"|\+?\d(?:[ \-.]?\d){8,}"  # 9+ digits, maybe spaced: cards, IBAN tails, phone numbers
)
PII_MASK = "[PII]"
_WORD = re.compile(r"[^\s\"<>\\{}\[\],:;()]{3,}")  # words of JSON text, without its punctuation


def removed_words(original: bytes, forwarded: bytes) -> frozenset[str]:
    """The words of the caller's request (JSON) that are not in the forwarded one: what a
    guard redacted. Both sides are compared in orjson's form, so escapes do not differ."""
    with contextlib.suppress(orjson.JSONDecodeError):
        original = orjson.dumps(orjson.loads(original))
    kept = {w.rstrip(".!?'") for w in _WORD.findall(forwarded.decode("utf-8", "replace"))}
    words = (w.rstrip(".!?'") for w in _WORD.findall(original.decode("utf-8", "replace")))
    return frozenset(w for w in words if len(w) >= 3 and w not in kept)


class ContentRedactor:
    """Masks secrets and personal-data shapes in text (``redacted`` content mode).

    Given the config's list of resolved secrets instead of a ``Redactor``, it builds one on
    first use: the audit section is compiled before others that add secrets (identity, guards,
    cache, limits), and by the first record the list holds them all."""

    def __init__(self, secrets: Redactor | Sequence[Secret]) -> None:
        self._secrets = secrets if isinstance(secrets, Redactor) else None
        self._pending = None if isinstance(secrets, Redactor) else secrets

    def redact(self, data: bytes, words: Collection[str] = ()) -> bytes:
        """``data`` masked; ``words`` (see ``removed_words``) are masked wherever they occur."""
        if self._secrets is None:
            self._secrets = Redactor(s.reveal() for s in self._pending or ())
            self._pending = None
        text = data.decode("utf-8", "replace")
        if words:  # longest first, so a word inside a longer one does not leave a remainder
            alternatives = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
            text = re.sub(alternatives, PII_MASK, text)
        return _PII.sub(PII_MASK, self._secrets.scrub(text)).encode("utf-8")
