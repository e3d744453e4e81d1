"""Verifying chains: recompute every hash, check every checkpoint, name the first bad record.

What each kind of tampering looks like here:

- modified:   a record's body no longer hashes to its stored hash, or an indexed column
              disagrees with the body it was derived from;
- missing:    the sequence skips numbers;
- inserted:   a record whose successor chains directly onto its predecessor;
- reordered:  a record stored at one position says it is another (e.g. two swapped);
- truncated:  a signed checkpoint, a witness copy or a successor chain's genesis record
              names a record beyond the chain's end;
- forged:     a checkpoint whose signature does not verify, or that names a hash the
              chain does not have (a record modified and everything after it rehashed);
- unregistered: records or checkpoints of a chain no chain row registers (the row was
              deleted or its id changed, which would otherwise hide the chain from verify).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from tollhouse.audit.canonical import GENESIS_PREV, canonical, chain_hash
from tollhouse.audit.chain import index_columns
from tollhouse.audit.events import parse_time
from tollhouse.audit.reader import StoredRecord, parse_body
from tollhouse.audit.signing import SignatureChecker
from tollhouse.audit.store import ChainInfo, CheckpointRow


@dataclass(frozen=True, slots=True)
class Problem:
    """The first thing wrong with a chain: the record (seq) it concerns, its kind, and why."""

    chain_id: str
    seq: int
    kind: str  # modified | missing | inserted | reordered | truncated | forged_checkpoint | unregistered
    message: str

    def __str__(self) -> str:
        return f"chain {self.chain_id} record {self.seq}: {self.kind}: {self.message}"


@dataclass(slots=True)
class ChainResult:
    """What verifying one chain found."""

    chain_id: str
    records: int = 0
    first_seq: int = 0
    last_seq: int = -1
    last_hash: str = ""
    checkpoints: int = 0
    problem: Problem | None = None
    predecessors: list[tuple[str, int, str]] = field(default_factory=list)  # from the genesis record
    closed: bool = False

    @property
    def ok(self) -> bool:
        return self.problem is None

    def fail(self, seq: int, kind: str, message: str) -> None:
        if self.problem is None or seq < self.problem.seq:
            self.problem = Problem(self.chain_id, seq, kind, message)


def _row_differs(info: ChainInfo, genesis: dict[str, object]) -> str:
    """What the chain's row (``audit_chains``, not hashed: written at start, updated by
    heartbeats) says otherwise than its hashed genesis record about who wrote the chain."""
    detail = genesis.get("detail")
    if not isinstance(detail, dict) or genesis.get("type") != "chain.start":
        return ""
    links = detail.get("predecessors")
    first = (
        links[0].split("@", 1)[0] if isinstance(links, list) and links and isinstance(links[0], str) else None
    )
    claims = [
        ("replica_id", info.replica_id, detail.get("replica")),
        ("host", info.host, detail.get("host")),
        ("pid", info.pid, detail.get("pid")),
        ("predecessor", info.predecessor, first),
    ]
    if isinstance(genesis.get("time"), str):
        claims.append(("started_us", info.started_us, parse_time(str(genesis["time"]))))
    return "; ".join(f"{name} {held!r} (genesis: {said!r})" for name, held, said in claims if held != said)


def _follows(prev: bytes, row: StoredRecord | None) -> bool:
    if row is None:
        return False
    record = parse_body(row.body)
    return record is not None and chain_hash(prev, canonical(record)).hex() == row.hash


def _predecessors(record: dict[str, object]) -> list[tuple[str, int, str]]:
    detail = record.get("detail")
    links = detail.get("predecessors") if isinstance(detail, dict) else None
    found = []
    for link in links if isinstance(links, list) else []:
        rest, _, digest = str(link).rpartition(":")
        chain, _, seq = rest.rpartition("@")
        found.append((chain, int(seq), digest))
    return found


class ChainVerifier:
    """Walks one chain's records in order, keeping the recomputed hash."""

    def __init__(
        self,
        chain_id: str,
        checkpoints: list[CheckpointRow],
        checker: SignatureChecker | None,
        info: ChainInfo | None = None,
    ) -> None:
        self.result = ChainResult(chain_id)
        self._info = info  # the chain's row, checked against its genesis record
        self._checkpoints = {c.seq: c for c in checkpoints}
        self._checker = checker
        self._before: bytes | None = None  # the hash before ``prev``: spots a well-linked insertion

    async def run(self, rows: AsyncIterator[StoredRecord], start: CheckpointRow | None = None) -> ChainResult:
        """Verify ``rows`` (from genesis, or from just after the trusted checkpoint ``start``)."""
        result = self.result
        prev, expected = (bytes.fromhex(start.hash), start.seq + 1) if start else (GENESIS_PREV, 0)
        result.first_seq = expected
        result.last_seq, result.last_hash = expected - 1, prev.hex()
        row = await anext(rows, None)
        while row is not None and result.ok:
            upcoming = await anext(rows, None)
            self._before, prev = prev, self._check(row, upcoming, prev, expected)
            expected = row.seq + 1
            row = upcoming
        self._check_checkpoints()
        return result

    def _check(self, row: StoredRecord, upcoming: StoredRecord | None, prev: bytes, expected: int) -> bytes:
        result = self.result
        if row.seq != expected:
            result.fail(
                expected,
                "missing",
                f"records {expected}..{row.seq - 1} are missing (the next stored is {row.seq})",
            )
            return prev
        record = parse_body(row.body)
        if record is None:
            result.fail(row.seq, "modified", "the stored body is not a JSON object")
            return prev
        digest = chain_hash(prev, canonical(record))
        claimed = record.get("seq")
        if record.get("chain") != result.chain_id or claimed != row.seq or digest.hex() != row.hash:
            self._displaced(row, record, upcoming, prev, digest)
            return digest
        for name, value in index_columns(record).items():
            if row.columns.get(name) != value:
                result.fail(
                    row.seq,
                    "modified",
                    f"column {name} ({row.columns.get(name)!r}) differs from the hashed record ({value!r})",
                )
                return digest
        if row.seq == 0:
            result.predecessors = _predecessors(record)
            if self._info is not None and (differs := _row_differs(self._info, record)):
                result.fail(0, "modified", f"the chain's row differs from its genesis record: {differs}")
                return digest
        result.closed = record.get("type") == "chain.close"
        result.records += 1
        result.last_seq, result.last_hash = row.seq, digest.hex()
        checkpoint = self._checkpoints.get(row.seq)
        if checkpoint is not None and checkpoint.hash != digest.hex():
            result.fail(
                row.seq,
                "forged_checkpoint",
                "a checkpoint names a hash this chain does not have (rehashed records?)",
            )
        return digest

    def _displaced(
        self,
        row: StoredRecord,
        record: dict[str, object],
        upcoming: StoredRecord | None,
        prev: bytes,
        digest: bytes,
    ) -> None:
        result, claimed = self.result, record.get("seq")
        next_record = parse_body(upcoming.body) if upcoming else None
        if claimed == row.seq + 1 and next_record is not None and next_record.get("seq") == row.seq:
            result.fail(row.seq, "reordered", f"records {row.seq} and {row.seq + 1} are swapped")
        elif (
            claimed == row.seq - 1
            and self._before is not None
            and chain_hash(self._before, canonical(record)).hex() == row.hash
        ):
            result.fail(
                row.seq - 1,
                "inserted",
                f"record {row.seq - 1} was inserted: the record after it was record {row.seq - 1} and follows {row.seq - 2} directly",
            )
        elif _follows(prev, upcoming):
            result.fail(
                row.seq,
                "inserted",
                f"record {row.seq} was inserted: the record after it follows record {row.seq - 1} directly",
            )
        elif claimed != row.seq and isinstance(claimed, int):
            result.fail(row.seq, "reordered", f"the record stored as {row.seq} says it is record {claimed}")
        elif record.get("chain") != result.chain_id:
            result.fail(
                row.seq,
                "inserted",
                f"the record stored as {row.seq} belongs to chain {record.get('chain')!r}",
            )
        else:
            result.fail(row.seq, "modified", "its contents do not match its hash")

    def _check_checkpoints(self) -> None:
        result = self.result
        for seq, checkpoint in sorted(self._checkpoints.items()):
            if seq < result.first_seq:
                continue
            result.checkpoints += 1
            if self._checker is not None:
                why = self._checker.problem(checkpoint)
                if why is not None:
                    result.fail(seq, "forged_checkpoint", f"the checkpoint at record {seq}: {why}")
            if seq > result.last_seq and result.ok:
                result.fail(
                    result.last_seq + 1,
                    "truncated",
                    f"a signed checkpoint covers record {seq} but the chain ends at {result.last_seq}",
                )


@dataclass(slots=True)
class VerifyReport:
    """The outcome for every chain checked; ``ok`` only if none has a problem."""

    chains: list[ChainResult]
    problems: list[Problem] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # facts worth knowing that are not failures

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "problems": [
                {"chain": p.chain_id, "seq": p.seq, "kind": p.kind, "message": p.message}
                for p in self.problems
            ],
            "chains": [
                {
                    "chain": c.chain_id,
                    "records": c.records,
                    "from_seq": c.first_seq,
                    "last_seq": c.last_seq,
                    "last_hash": c.last_hash,
                    "checkpoints": c.checkpoints,
                    "closed": c.closed,
                    "ok": c.ok,
                }
                for c in self.chains
            ],
            "notes": self.notes,
        }


def check_links(results: dict[str, ChainResult], successors: dict[str, str | None]) -> list[str]:
    """Check each genesis record's links against where the crashed chain actually ends.

    Adds a ``truncated`` or ``inserted`` problem to the predecessor when its end moved after
    the successor recorded it; returns notes about chains that are open and unlinked.
    """
    notes = []
    for result in results.values():
        for chain_id, seq, digest in result.predecessors:
            before = results.get(chain_id)
            if before is None or not before.ok:
                continue
            if before.last_seq < seq:
                before.fail(
                    before.last_seq + 1,
                    "truncated",
                    f"chain {result.chain_id} took over after record {seq}, but this chain ends at {before.last_seq}",
                )
            elif before.last_seq > seq:
                before.fail(
                    seq + 1,
                    "inserted",
                    f"records after {seq} were added after chain {result.chain_id} took over",
                )
            elif before.last_hash != digest:
                before.fail(
                    seq,
                    "modified",
                    f"record {seq} does not have the hash chain {result.chain_id} recorded for it",
                )
    for chain_id, result in results.items():
        if not result.closed and successors.get(chain_id) is None:
            notes.append(
                f"chain {chain_id} is open (its writer is running, or crashed and no successor has started)"
            )
    return notes


def merge_witness(
    database: list[CheckpointRow], witness: list[CheckpointRow]
) -> tuple[dict[str, list[CheckpointRow]], list[Problem]]:
    """Checkpoints by chain, the witness's copies included; a witness copy that the database lost or
    changed is a problem of its own."""
    by_key = {(c.chain_id, c.seq): c for c in database}
    problems = []
    for copy in witness:
        held = by_key.get((copy.chain_id, copy.seq))
        if held is None:
            problems.append(
                Problem(
                    copy.chain_id,
                    copy.seq,
                    "truncated",
                    "a checkpoint the witness holds is gone from the database",
                )
            )
            by_key[(copy.chain_id, copy.seq)] = copy
        elif (held.hash, held.signature) != (copy.hash, copy.signature):
            problems.append(
                Problem(
                    copy.chain_id,
                    copy.seq,
                    "forged_checkpoint",
                    "the database's checkpoint differs from the witness's copy",
                )
            )
    grouped: dict[str, list[CheckpointRow]] = {}
    for row in by_key.values():
        grouped.setdefault(row.chain_id, []).append(row)
    return grouped, problems


def unregistered(
    registered: set[str], record_chains: dict[str, int], checkpoints: dict[str, list[CheckpointRow]]
) -> list[Problem]:
    """A problem for every chain that has records or checkpoints but no chain row."""
    problems = [
        Problem(chain, seq, "unregistered", "records of a chain that no chain row registers")
        for chain, seq in record_chains.items()
        if chain not in registered
    ]
    held = set(record_chains)
    problems += [
        Problem(
            chain,
            min(c.seq for c in rows),
            "unregistered",
            "checkpoints of a chain that no chain row registers",
        )
        for chain, rows in checkpoints.items()
        if chain not in registered and chain not in held
    ]
    return problems
