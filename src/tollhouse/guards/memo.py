"""What a guard found in texts it has read before: agents resend their whole conversation.

An agent's tenth call carries the system prompt, the user's request and nine turns of tool
calls and results that the guards judged on the calls before; scanning them again makes a
conversation's guard time grow with the square of its length. A detector that is a pure
function of its text and scope (all built-in ones but the canary and schema checks, which read
the call's state) keeps its findings here, keyed by the exact text — never a hash of it, so
no crafted text can borrow another's verdict — and the scope.

Bounded by the characters it holds: the least recently used texts go first. Short texts are
not kept (scanning them costs about what keeping them would), nor very long ones (one would
crowd out the rest).
Thread-safe: a model-backed guard runs in a worker thread.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

from tollhouse.guards.verdict import Finding, Scope

MIN_CHARS = 200
MAX_CHARS = 65_536
BUDGET_CHARS = 1_000_000  # per guard: about 1 MB of text, over a thousand 600-character turns


class FindingsMemo:
    """Findings by ``(scope, text)``, least recently used evicted first."""

    def __init__(self, budget_chars: int = BUDGET_CHARS) -> None:
        self._budget = budget_chars
        self._held = 0
        self._found: OrderedDict[tuple[Scope, str], tuple[Finding, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    @staticmethod
    def keeps(text: str) -> bool:
        """Whether a text of this length is worth keeping."""
        return MIN_CHARS <= len(text) <= MAX_CHARS

    def get(self, scope: Scope, text: str) -> tuple[Finding, ...] | None:
        with self._lock:
            found = self._found.get((scope, text))
            if found is None:
                self.misses += 1
                return None
            self._found.move_to_end((scope, text))
            self.hits += 1
            return found

    def put(self, scope: Scope, text: str, findings: tuple[Finding, ...]) -> None:
        with self._lock:
            key = (scope, text)
            if key in self._found:
                return
            self._found[key] = findings
            self._held += len(text)
            while self._held > self._budget:
                (_, old), _ = self._found.popitem(last=False)
                self._held -= len(old)

    def clear(self) -> None:
        with self._lock:
            self._found.clear()
            self._held = 0

    def __len__(self) -> int:
        return len(self._found)
