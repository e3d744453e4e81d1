"""Report periods as people write them: ``7d``, ``24h``, ``2026-11-01``, an ISO time, epoch seconds."""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

_RELATIVE = re.compile(r"^(\d+(?:\.\d+)?)([smhdw])$")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_LATEST_S = 253_402_300_799  # 9999-12-31T23:59:59Z: later (or infinite, or NaN) is no time


class BadTime(ValueError):
    """A time that cannot be read."""


def parse_time(text: str, now: float | None = None) -> float:
    """Epoch seconds for ``text``: a duration ago (``7d``), a UTC date or ISO time, or epoch seconds.

    Raises ``BadTime`` for what cannot be read, and for a time before 1970 or after 9999
    (``1e308``, ``nan``, ``100000000d``), which no database column can hold."""
    seconds = _parse(text.strip(), time.time() if now is None else now)
    if not 0 <= seconds <= _LATEST_S:  # also False for NaN
        raise BadTime(f"the time {text.strip()!r} is outside 1970-01-01 to 9999-12-31")
    return seconds


def _parse(text: str, now: float) -> float:
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
