"""Exfiltration: markdown images and links, and HTML images, whose URL carries data to a
host outside the allow-list; ``data:`` URLs; instructions hidden in invisible text.

A model that was injected can leak a conversation by answering with an image whose URL
holds the data: the client renders it and the attacker's server receives it. Links to
allowed hosts, and plain links without a query or long path, pass.
"""

from __future__ import annotations

import bisect
import itertools
import re
from urllib.parse import urlsplit

from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.link_scan import img_tags, markdown_links
from tollhouse.guards.normalize import ascii_lower, hidden_marks
from tollhouse.guards.verdict import Finding, Scope

_REF_URL_RE = re.compile(r"^\s{0,3}\[[^\]\n]{1,200}\]:\s*<?(\S+?)>?(?:\s|$)", re.MULTILINE)
_DATA_URL_RE = re.compile(r"\bdata:[\w/+.-]{1,64}(?:;[\w=-]+)*,[A-Za-z0-9+/=%._-]{16,}", re.IGNORECASE)
_MIN_PAYLOAD = 16  # characters of query or path a URL needs before it can carry data
# Where a host name ends when a URL was read past its end (``link_scan`` reads generously).
_HOST_RE = re.compile(r"\[[0-9a-f:.]+\]|[^\s/?#()\[\]<>\"'\\]*")


def _host_allowed(host: str, allowed: frozenset[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == a or host.endswith("." + a) for a in allowed)


def _carries_data(url: str) -> bool:
    parts = urlsplit(url)
    if parts.query and len(parts.query) >= 8:
        return True
    longest = max((len(p) for p in parts.path.split("/")), default=0)
    return longest >= _MIN_PAYLOAD * 2 or len(parts.path) >= 96


class ExfiltrationDetector:
    """``image`` URLs to unknown hosts always count; links only when they carry data."""

    name = "exfiltration"
    pure = True  # findings depend on the text and scope alone (``guards/memo.py``)

    def __init__(self, allow_hosts: frozenset[str] = frozenset(), block_all_images: bool = False) -> None:
        self._allowed = allow_hosts
        self._all_images = block_all_images

    def _url(self, url: str, image: bool) -> str | None:
        if url[:5].lower() == "data:":
            return "data_url"
        if url.startswith("//"):  # protocol-relative: fetched with the page's scheme
            url = "https:" + url
        try:
            parts = urlsplit(url)
            host = parts.hostname
        except ValueError:  # e.g. an unbalanced "[" in the host: no URL a client can fetch
            return None
        if parts.scheme.lower() not in ("http", "https") or not host:
            return None
        if _host_allowed(_HOST_RE.match(host).group(), self._allowed):  # type: ignore[union-attr] # matches ""
            return None
        if image and (self._all_images or _carries_data(url)):
            return "image_exfiltration"
        if _carries_data(url):
            return "link_exfiltration"
        return None

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        found: list[Finding] = []
        # One character first: a memchr, where a two-character search reads the whole text.
        bracket = "]" in text
        if bracket and "](" in text:
            for link in markdown_links(text):
                kind = self._url(link.url, link.image)
                if kind is not None:
                    found.append(Finding(kind, link.start, link.end, score=0.9))
        if bracket and "]:" in text:
            for m in _REF_URL_RE.finditer(text):
                kind = self._url(m.group(1), True)
                if kind is not None:
                    found.append(Finding(kind, *m.span(), score=0.8))
        data = ":" in text and ("data:" in text or "DATA:" in text or "Data:" in text)
        lowered = ascii_lower(text) if "<" in text or data else ""
        if "<img" in lowered:
            for link in img_tags(text):
                kind = self._url(link.url, True)
                if kind is not None:
                    found.append(Finding(kind, link.start, link.end, score=0.9))
        if "data:" in lowered:
            # A data URL already inside a link found above is not a second finding.
            taken = _Taken(found)
            for m in _DATA_URL_RE.finditer(text):
                if not taken.overlaps(m.start(), m.end()):
                    found.append(Finding("data_url", *m.span(), score=0.7))
        invisible, tagged = hidden_marks(text)
        if tagged or invisible >= 4:
            found.append(Finding("invisible_text", 0, len(text), score=0.8))
        return found


class _Taken:
    """The spans of findings so far, asked whether a new span overlaps one (log time each)."""

    def __init__(self, found: list[Finding]) -> None:
        spans = sorted((f.start, f.end) for f in found)
        self._starts = [start for start, _ in spans]
        self._reach = list(itertools.accumulate((end for _, end in spans), max, initial=0))

    def overlaps(self, start: int, end: int) -> bool:
        before = bisect.bisect_left(self._starts, end)  # the spans that start before ``end``
        return self._reach[before] > start
