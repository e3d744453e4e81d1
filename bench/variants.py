"""Tollhouse variants: the plain tollhouse target with one feature on, to price that feature.

Each variant serves its own config, bench/variants/<name>.yaml, on the tollhouse port (targets
run one at a time). Beyond the answer check every variant proves its feature did work: the
virtual key is the only credential sent, limit headers come back (and counters land in
Redis), the second request is a cache hit, audit records and ledger rows are written.
"""

from __future__ import annotations

import http.client
import re
import socket
import sqlite3

from procs import fetch, run_cli
from settings import REPO
from targets import Target, tollhouse

TOLLHOUSE_CLI = ".venv/bin/tollhouse"
KEY_RE = re.compile(r"\bth-[A-Za-z0-9_-]{20,}")


def config_of(target: Target) -> str:
    """The text of the config file target serves."""
    assert target.served is not None
    return (REPO / target.served).read_text()


def send(target: Target, stream: bool) -> tuple[int, str, dict[str, str]]:
    path, body, headers = target.request(stream)
    hdrs = {"Content-Type": "application/json"} | dict(h.split(": ", 1) for h in headers)
    return fetch(target.port, path, body, hdrs)


# --------------------------------------------------------------------------- virtual key


def issue_key(target: Target) -> str | None:
    """Create a team, a user and a key for it with the CLI; the load then sends that key."""
    assert target.served is not None
    config = ["-c", target.served]
    scopes = ["--model", "gpt-bench", "--model", "gpt-bench-stream"]
    steps = [
        ["teams", "create", "bench"],
        ["teams", "add-user", "bench-user", "--team", "bench"],
        ["keys", "create", "--principal", "bench-user", "--name", "bench", *scopes],
    ]
    out = ""
    for step in steps:
        code, out, err = run_cli([TOLLHOUSE_CLI, *step, *config])
        if code != 0:
            return f"`tollhouse {' '.join(step)}` failed ({code}): {(err or out).strip()[-300:]}"
    key = KEY_RE.search(out)
    if key is None:
        return f"no th- key in the output of `tollhouse keys create`: {out[-300:]!r}"
    target.headers = [f"Authorization: Bearer {key.group(0)}"]
    return None


# --------------------------------------------------------------------------- limits


def redis_command(host: str, port: int, db: int, *args: str) -> object:
    """One Redis command on db, over a fresh connection (RESP2, just enough to read replies)."""
    with socket.create_connection((host, port), timeout=5) as sock, sock.makefile("rb") as replies:

        def encode(*parts: str) -> bytes:
            out = f"*{len(parts)}\r\n"
            for part in parts:
                out += f"${len(part.encode())}\r\n{part}\r\n"
            return out.encode()

        def read() -> object:
            line = replies.readline().decode().rstrip("\r\n")
            kind, rest = line[:1], line[1:]
            if kind == "+":
                return rest
            if kind == "-":
                raise OSError(f"redis: {rest}")
            if kind == ":":
                return int(rest)
            if kind == "$":
                return None if rest == "-1" else replies.read(int(rest) + 2)[:-2].decode()
            if kind == "*":
                return [] if rest == "-1" else [read() for _ in range(int(rest))]
            raise OSError(f"redis: unexpected reply {line!r}")

        sock.sendall(encode("SELECT", str(db)) + encode(*args))
        read()
        return read()


def redis_settings(target: Target) -> tuple[str, int, int, str]:
    """Host, port, db and limits key prefix from the served config."""
    text = config_of(target)
    url = re.search(r"redis://([^:/\s]+):(\d+)/(\d+)", text)
    prefix = re.search(r"key_prefix:\s*\"([^\"]+)\"", text)
    if url is None or prefix is None:
        raise ValueError(f"{target.served} names no redis://HOST:PORT/DB or no limits key_prefix")
    return url.group(1), int(url.group(2)), int(url.group(3)), prefix.group(1)


def redis_up(target: Target) -> str | None:
    try:
        host, port, db, _ = redis_settings(target)
        answer = redis_command(host, port, db, "PING")
    except (OSError, ValueError) as err:
        return f"Redis for the limits is not reachable ({err})"
    return None if answer == "PONG" else f"Redis at {host}:{port} answered PING with {answer!r}"


def limit_headers(target: Target) -> str | None:
    """A call answers with x-ratelimit-* headers: the limits are on."""
    try:
        status, _, headers = send(target, False)
    except (OSError, http.client.HTTPException) as err:
        return f"request failed: {err!r}"
    if status != 200 or "x-ratelimit-limit-requests" not in headers:
        return f"no x-ratelimit-limit-requests header (HTTP {status}): limits not active"
    return None


def limits_in_redis(target: Target) -> str | None:
    """As limit_headers, and the counters are keys in Redis (not the fail-open local ones)."""
    why = limit_headers(target)
    if why is not None:
        return why
    try:
        host, port, db, prefix = redis_settings(target)
        keys = redis_command(host, port, db, "KEYS", prefix + "*")
    except (OSError, ValueError) as err:
        return f"Redis for the limits is not reachable after start ({err})"
    if not keys:
        return f"no `{prefix}*` keys in Redis db {db}: the counters are not there (degraded?)"
    return None


# --------------------------------------------------------------------------- cache, tallies


def cache_hits(target: Target) -> str | None:
    """After the answer checks stored both answers, the same requests are cache hits."""
    for stream in (False, True):
        try:
            status, _, headers = send(target, stream)
        except (OSError, http.client.HTTPException) as err:
            return f"request failed: {err!r}"
        cache = headers.get("x-tollhouse-cache")
        if status != 200 or cache != "hit":
            kind = "streaming" if stream else "non-streaming"
            return f"{kind} repeat was not a cache hit (HTTP {status}, x-tollhouse-cache: {cache})"
    return None


def count_rows(target: Target, sql: str) -> list[tuple[object, ...]] | str:
    if target.database is None or not target.database.exists():
        return "no database"
    try:
        with sqlite3.connect(f"file:{target.database}?mode=ro", uri=True) as db:
            return db.execute(sql).fetchall()
    except sqlite3.Error as err:
        return f"{err}"


PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _pg(target: Target) -> tuple[str, str]:
    """The served config's PostgreSQL URL and its database name."""
    match = re.search(r"postgresql://\S+/(\w+)", config_of(target))
    if match is None:
        raise ValueError(f"{target.served} names no postgresql:// database")
    return match.group(0), match.group(1)


def _psql(url: str, sql: str) -> tuple[str | None, list[str]]:
    """Run sql with the psql client (the runner uses the standard library only): (error, rows)."""
    code, out, err = run_cli(["psql", url, "-v", "ON_ERROR_STOP=1", "-tAc", sql], timeout=60)
    if code != 0:
        return (err or out).strip()[-300:] or f"psql exited with {code}", []
    return None, [line for line in out.splitlines() if line.strip()]


def pg_database(target: Target) -> str | None:
    """Create the served config's PostgreSQL database if it is missing."""
    _, name = _pg(target)
    if not re.fullmatch(r"\w+", name):
        return f"unexpected database name {name!r}"
    # name is checked to be a plain identifier just above
    why, rows = _psql(PG_ADMIN_URL, f"SELECT 1 FROM pg_database WHERE datname = '{name}'")  # noqa: S608
    if why is None and not rows:
        why, _ = _psql(PG_ADMIN_URL, f'CREATE DATABASE "{name}"')
    if why is not None:
        return f"PostgreSQL is not reachable or the database cannot be created ({why})"
    return None


def pg_audit_records(target: Target, completed: int) -> str | None:
    """Records of the newest chain (each run starts one), by type."""
    why, rows = _psql(
        _pg(target)[0],
        "SELECT type || ' ' || COUNT(*) FROM audit_records WHERE chain_id = "
        "(SELECT chain_id FROM audit_chains ORDER BY started_us DESC LIMIT 1) GROUP BY type ORDER BY type",
    )
    if why is not None:
        return f"audit records: {why}"
    counts = ", ".join(f"{row.split(' ')[1]} {row.split(' ')[0]}" for row in rows)
    return f"audit records written: {counts or 'none'} (wrk completed {completed} requests)"


def audit_records(target: Target, completed: int) -> str | None:
    rows = count_rows(target, "SELECT type, COUNT(*) FROM audit_records GROUP BY type ORDER BY type")
    if isinstance(rows, str):
        return f"audit records: {rows}"
    counts = ", ".join(f"{n} {kind}" for kind, n in rows)
    return f"audit records written: {counts or 'none'} (wrk completed {completed} requests)"


def ledger_rows(target: Target, completed: int) -> str | None:
    rows = count_rows(target, "SELECT COUNT(*) FROM usage_ledger")
    if isinstance(rows, str):
        return f"ledger: {rows}"
    return f"ledger rows written: {rows[0][0]} (wrk completed {completed} requests)"


def variant_targets() -> dict[str, Target]:
    def config(name: str) -> str:
        return f"bench/variants/{name}.yaml"

    targets = [
        tollhouse(
            "tollhouse-vkey",
            config("tollhouse-vkey"),
            "callers send a virtual key (th-..., issued with `tollhouse keys create`) instead of the "
            "master key; identity on, keys in SQLite",
            prepare=issue_key,
        ),
        tollhouse(
            "tollhouse-audit-async",
            config("tollhouse-audit-async"),
            "audit trail on, `async` durability (records batched, committed every 0.5 s), SQLite",
            tally=audit_records,
        ),
        tollhouse(
            "tollhouse-audit-strict",
            config("tollhouse-audit-strict"),
            "audit trail on, `strict` durability (each call waits for its records' group commit), SQLite",
            tally=audit_records,
        ),
        tollhouse(
            "tollhouse-audit-async-pg",
            config("tollhouse-audit-async-pg"),
            "tollhouse-audit-async with the chain in PostgreSQL (the database's work out of process)",
            prepare=pg_database,
            tally=pg_audit_records,
        ),
        tollhouse(
            "tollhouse-audit-strict-pg",
            config("tollhouse-audit-strict-pg"),
            "tollhouse-audit-strict with the chain in PostgreSQL (the database's work out of process)",
            prepare=pg_database,
            tally=pg_audit_records,
        ),
        tollhouse(
            "tollhouse-limits",
            config("tollhouse-limits"),
            "limits on, counters in-process: requests, tokens (reserved), concurrency and daily "
            "spend per key, none reached; spend ledger in SQLite",
            probe=limit_headers,
            tally=ledger_rows,
        ),
        tollhouse(
            "tollhouse-limits-redis",
            config("tollhouse-limits-redis"),
            "the same limits with counters in Redis (one Lua script per call, round trips shared)",
            prepare=redis_up,
            probe=limits_in_redis,
            tally=ledger_rows,
        ),
        tollhouse(
            "tollhouse-cache-hit",
            config("tollhouse-cache-hit"),
            "exact-match response cache in memory; every request under load is a hit",
            probe=cache_hits,
        ),
    ]
    return {t.name: t for t in targets}
