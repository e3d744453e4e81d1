"""Scrubbing secrets out of any text that leaves the process (logs, error messages)."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable

# Shapes of credentials worth hiding even when the gateway does not know their value.
_PATTERNS = (
    r"\bsk-[A-Za-z0-9_\-]{6,}",
    r"\bth-[A-Za-z0-9_\-]{6,}",
    r"\b[Bb][Ee][Aa][Rr][Ee][Rr]\s+[A-Za-z0-9._~+/=\-]{8,}",
    r"\bAKIA[0-9A-Z]{16}\b",
    r"\bAIza[0-9A-Za-z_\-]{30,}",
)
MASK = "[REDACTED]"


class Redactor:
    """Replaces known secret values and credential-shaped strings with a mask."""

    __slots__ = ("_known", "_re")

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._known: set[str] = set()
        self._re = re.compile("|".join(_PATTERNS))
        self.learn(secrets)

    def learn(self, secrets: Iterable[str]) -> None:
        """Hide these values too (a credential loaded after start, e.g. from the vault)."""
        fresh = {s for s in secrets if len(s) >= 4} - self._known
        if not fresh:
            return
        self._known |= fresh
        known = sorted(self._known, key=len, reverse=True)
        self._re = re.compile("|".join([re.escape(s) for s in known] + list(_PATTERNS)))

    def scrub(self, text: str) -> str:
        return self._re.sub(MASK, text)


class RedactingFilter(logging.Filter):
    """A logging filter that scrubs the formatted message and any exception text."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = self._redactor.scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and record.exc_info[1] is not None:
            formatted = logging.Formatter().formatException(record.exc_info)
            record.exc_text = self._redactor.scrub(formatted)
            record.exc_info = None
        return True


def install(redactor: Redactor, level: str = "info", fmt: str = "text") -> None:
    """Route Tollhouse's and uvicorn's logs through one scrubbing handler on stderr."""
    handler = logging.StreamHandler()
    if fmt == "json":
        handler.setFormatter(
            logging.Formatter(
                '{"time":"%(asctime)s","level":"%(levelname)s","logger":"%(name)s","message":%(message)r}'
            )
        )
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactingFilter(redactor))
    for name in ("tollhouse", "uvicorn", "uvicorn.error", "aiohttp"):
        logger = logging.getLogger(name)
        for existing in list(logger.handlers):
            existing.addFilter(RedactingFilter(redactor))
        if name == "tollhouse":
            logger.handlers = [handler]
            logger.propagate = False
        logger.setLevel(level.upper())
