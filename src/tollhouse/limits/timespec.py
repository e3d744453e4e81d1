"""Report periods as people write them: ``7d``, ``24h``, ``2026-11-01``, an ISO time, epoch seconds."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class BadTime(ValueError):
    """A time that cannot be read."""


def parse_time(text: str, now: float | None = None) -> float:
    """Epoch seconds for ``text``: a duration ago (``7d``), a UTC date or ISO time, or epoch seconds."""
    text = text.strip()
    now = time.time() if now is None else now
    relative = _RELATIVE.match(text)
    if relative:
        return now - float(relative.group(1)) * _UNIT_S[relative.group(2)]
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise BadTime(
            f"cannot read the time {text!r}: use 7d, 24h, 2026-11-01, an ISO time or epoch seconds"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.timestamp()


def to_us(text: str | None) -> int | None:
    return None if not text else int(parse_time(text) * 1_000_000)
