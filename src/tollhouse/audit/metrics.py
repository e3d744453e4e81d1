"""The audit trail's Prometheus metrics: is the writer keeping up, and has anything been lost.

Read from the queue's and the writer's plain counters when the gateway's metrics are flushed
(on scrape, and every second with several workers), never per record. Gauges are summed over
live workers, except the time of the last commit, which shows the stalest worker's.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from tollhouse.audit.writer_stats import WRITE_BUCKETS, WriterStats

if TYPE_CHECKING:
    from tollhouse.audit.trail import AuditTrail


class AuditMetrics:
    """``tollhouse_audit_*`` families over one process's trail (a ``Metrics`` source)."""

    def __init__(self, trail: AuditTrail, registry: CollectorRegistry) -> None:
        self.trail = trail
        self.records = Counter(
            "tollhouse_audit_records", "Audit records committed to the chain.", registry=registry
        )
        self.commits = Counter(
            "tollhouse_audit_commits",
            "Audit batches committed (ok) or failed (their records retried or spilled).",
            ("outcome",),
            registry=registry,
        )
        self.commit_time = Histogram(
            "tollhouse_audit_commit_duration_seconds",
            "Time to encrypt content and commit one batch of audit records.",
            buckets=WRITE_BUCKETS,
            registry=registry,
        )
        self.dropped = Counter(
            "tollhouse_audit_dropped_records",
            "Audit records lost, by reason (each loss is also recorded in the chain).",
            ("reason",),
            registry=registry,
        )
        self.spilled = Counter(
            "tollhouse_audit_spilled_records", "Audit records set aside in the spill file.", registry=registry
        )
        self.backpressure = Counter(
            "tollhouse_audit_backpressure",
            "Calls held back because the audit queue was full: waited for room, or refused.",
            ("outcome",),
            registry=registry,
        )
        self.depth = Gauge(
            "tollhouse_audit_queue_depth",
            "Audit records waiting for the writer.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.capacity = Gauge(
            "tollhouse_audit_queue_capacity",
            "Records the audit queue holds before backpressure applies.",
            registry=registry,
            multiprocess_mode="livesum",
        )
        self.last_commit = Gauge(
            "tollhouse_audit_last_commit_timestamp_seconds",
            "When the audit writer last committed (an idle writer commits a heartbeat every 30 s).",
            registry=registry,
            multiprocess_mode="livemin",
        )
        for reason in (
            "queue_full",
            "shutdown",
            "build_error",
            "unencodable",
            "unwritable",
        ):  # shown as 0 before any loss
            self.dropped.labels(reason)
        self._source: WriterStats | None = None  # the running writer's counts
        self._seen = WriterStats()  # what the families already hold of them
        self._dropped: dict[str, int] = {}
        self._spilled = self._waited = self._refused = 0

    def update(self) -> None:
        """Bring the families up to date with the queue's and the writer's counts."""
        queue = self.trail.queue
        self.depth.set(len(queue))
        self.capacity.set(queue.capacity)
        stats = queue.stats
        for reason, total in stats.dropped_total.items():
            self.dropped.labels(reason).inc(total - self._dropped.get(reason, 0))
            self._dropped[reason] = total
        self.spilled.inc(stats.spilled - self._spilled)
        self.backpressure.labels("waited").inc(stats.waited - self._waited)
        self.backpressure.labels("refused").inc(stats.refused - self._refused)
        self._spilled, self._waited, self._refused = stats.spilled, stats.waited, stats.refused
        writer = self.trail.writer
        # A stopped trail has let its writer go: its last counts (the drain at shutdown) still show.
        counts = writer.stats if writer is not None else self._source
        if counts is not None:
            self._writer(counts)

    def _writer(self, stats: WriterStats) -> None:
        if stats is not self._source:  # a new writer (the trail restarted) counts from zero
            self._source, self._seen = stats, WriterStats()
        seen = self._seen
        self.records.inc(stats.records - seen.records)
        self.commits.labels("ok").inc(stats.commits - seen.commits)
        self.commits.labels("failed").inc(stats.failures - seen.failures)
        # Bulk-adding to a histogram has no public API (as in ``Metrics._add_histogram``).
        for index, count in enumerate(stats.write_buckets):
            if count > seen.write_buckets[index]:
                self.commit_time._buckets[index].inc(count - seen.write_buckets[index])
        self.commit_time._sum.inc(stats.write_seconds - seen.write_seconds)
        if stats.last_commit:
            self.last_commit.set(stats.last_commit)
        self._seen = WriterStats(
            stats.records,
            stats.commits,
            stats.failures,
            list(stats.write_buckets),
            stats.write_seconds,
            stats.last_commit,
        )
