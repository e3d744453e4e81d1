"""What a chain writer has done, as plain counters: the audit trail's metrics read them.

The writer commits a few dozen times a second at most, so it updates these directly; the
Prometheus families are brought up to date from them on scrape (``audit.metrics``).
"""

from __future__ import annotations

import time
from bisect import bisect_left
from dataclasses import dataclass, field

# Seconds: a local SQLite commit takes well under a millisecond, a remote PostgreSQL one a few
# round trips and an fsync; anything near a second means the writer is falling behind.
WRITE_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
_BOUNDS = (*WRITE_BUCKETS, float("inf"))


@dataclass(slots=True)
class WriterStats:
    """Counts that only grow, and when the chain last reached the database."""

    records: int = 0  # records committed
    commits: int = 0  # transactions committed
    failures: int = 0  # transactions that failed (their records are retried or spilled)
    write_buckets: list[int] = field(default_factory=lambda: [0] * len(_BOUNDS))
    write_seconds: float = 0.0
    last_commit: float = 0.0  # wall clock (s since the epoch); 0: none yet

    def committed(self, records: int, seconds: float) -> None:
        """A transaction of ``records`` records took ``seconds`` in the database."""
        self.records += records
        self.commits += 1
        self.write_seconds += seconds
        self.write_buckets[bisect_left(_BOUNDS, seconds)] += 1
        self.last_commit = time.time()
