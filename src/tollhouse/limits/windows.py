"""Windows: how long a count lasts, and when a calendar window ends (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tollhouse.limits.counters import Expiry

WINDOW_MS = {
    "second": 1_000,
    "minute": 60_000,
    "hour": 3_600_000,
    "day": 86_400_000,
    "week": 7 * 86_400_000,
    "month": 30 * 86_400_000,  # anchored months are 30 days; calendar months end on the 1st
}


def calendar_bounds(window: str, now_ms: int) -> tuple[int, int]:
    """``(start, end)`` in epoch ms of the UTC calendar window holding ``now_ms``."""
    if window in ("second", "minute", "hour", "day"):
        size = WINDOW_MS[window]
        start = now_ms - now_ms % size
        return start, start + size
    now = datetime.fromtimestamp(now_ms / 1000, UTC)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    if window == "week":  # ISO weeks: Monday 00:00 UTC
        begin = midnight - timedelta(days=now.weekday())
        end = begin + timedelta(days=7)
    else:
        begin = midnight.replace(day=1)
        end = (
            begin.replace(year=begin.year + 1, month=1)
            if begin.month == 12
            else begin.replace(month=begin.month + 1)
        )
    return int(begin.timestamp() * 1000), int(end.timestamp() * 1000)


def expiry(window: str, calendar: bool, now_ms: int, idle_ms: int) -> tuple[Expiry, str]:
    """The counter's expiry for a window, and the suffix its key gets (calendar windows only)."""
    if window == "none":
        return Expiry("i", idle_ms), ""
    if calendar:
        start, end = calendar_bounds(window, now_ms)
        return Expiry("c", end - start, end), f":{start}"
    return Expiry("a", WINDOW_MS[window]), ""
