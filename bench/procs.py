"""Process control and loopback HTTP: start and stop servers, read their tree from /proc.

A server runs in its own session, so stopping it stops its whole tree. Its tree's peak
RSS and CPU time come from /proc, summed over every process in it.
"""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import FrameType

from settings import REL_WORK, REPO, START_TIMEOUT, WORK

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


class Server:
    """A child process in its own session, so stopping it stops its whole tree."""

    def __init__(self, name: str, cmd: list[str], env: dict[str, str | None] | None = None) -> None:
        self.name = name
        full_env = dict(os.environ)
        for key, value in (env or {}).items():
            if value is None:
                full_env.pop(key, None)
            else:
                full_env[key] = value
        logs = WORK / "logs"
        logs.mkdir(parents=True, exist_ok=True)
        with open(logs / f"{name}.log", "wb") as log:
            self.proc = subprocess.Popen(
                cmd,
                cwd=REPO,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=full_env,
                start_new_session=True,
            )
        LIVE.append(self)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def tree(self) -> list[int]:
        children: dict[int, list[int]] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
        pids, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            pids.append(pid)
            todo += children.get(pid, [])
        return pids

    def peak_rss_mib(self) -> float:
        """VmHWM (peak resident set) summed over the process tree."""
        total_kib = 0
        for pid in self.tree():
            try:
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        total_kib += int(line.split()[1])
            except OSError:
                continue
        return total_kib / 1024

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the process tree has used so far, all threads included.

        utime + stime of each live process, plus cutime + cstime: the time of children it
        has reaped. A child reaped between two readings moves from its own line to its
        parent's, so the difference between two readings stays right.
        """
        ticks = 0
        for pid in self.tree():
            try:
                # After the ")" that closes comm, field n of stat(5) is at index n - 3:
                # utime, stime, cutime, cstime are fields 14 to 17.
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            ticks += sum(int(f) for f in fields[11:15])
        return ticks / CLOCK_TICKS

    def stop(self) -> None:
        if self in LIVE:
            LIVE.remove(self)
        if not self.alive():
            return
        for sig, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.proc.wait(grace)
                return
            except subprocess.TimeoutExpired:
                continue


LIVE: list[Server] = []


def stop_all(signum: int | None = None, frame: FrameType | None = None) -> None:
    for server in list(LIVE):
        server.stop()
    if signum is not None:
        sys.exit(128 + signum)


def port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex(("127.0.0.1", port)) == 0


def fetch(
    port: int,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 30,
) -> tuple[int, str, dict[str, str]]:
    """One loopback HTTP request (GET, or POST with a body): (status, body text, headers).

    Header names come back lower-cased.
    """
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET" if body is None else "POST", path, body=body, headers=headers or {})
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
        return resp.status, text, {k.lower(): v for k, v in resp.getheaders()}
    finally:
        conn.close()


def wait_healthy(port: int, path: str, server: Server | None) -> str | None:
    """None once GET path answers 200, else why not."""
    deadline = time.monotonic() + START_TIMEOUT
    last = "no answer"
    while time.monotonic() < deadline:
        if server is not None and not server.alive():
            return f"exited with code {server.proc.returncode} (see {REL_WORK}/logs/)"
        try:
            status, _, _ = fetch(port, path, timeout=2)
            if status == 200:
                return None
            last = f"HTTP {status}"
        except (OSError, http.client.HTTPException) as err:
            last = repr(err)
        time.sleep(0.5)
    return f"not healthy after {START_TIMEOUT}s: {last}"


def run_cli(cmd: list[str], timeout: float = 120) -> tuple[int, str, str]:
    """A setup command in the repo: (exit code, stdout, stderr); 127 if it cannot run."""
    try:
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as err:
        return 127, "", repr(err)
    return done.returncode, done.stdout, done.stderr
