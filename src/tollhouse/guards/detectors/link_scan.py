"""The URLs a client could fetch while rendering a text: markdown images and links, HTML
``<img>`` tags. For the exfiltration guard.

Two properties matter more than parsing markdown exactly:

- **No URL a renderer fetches is missed or cut short** (a cut URL can lose the data it
  carries). CommonMark allows balanced parentheses in a destination
  (``(https://x/a(b)?d=…)``), spaces inside ``<…>``, brackets in link text (``![a [b] c](…)``);
  HTML allows ``>`` inside a quoted attribute (``<img alt=">" src=…>``) and loads ``srcset``.
  Where the structure is deeper than this scanner follows, it takes the longer reading.
- **Time linear in the text**, whatever it holds: a guard runs on the event loop, and a
  prompt of ``![a](`` repeated, or ``<img`` repeated without a ``>``, made the regular
  expression this replaced try every start against the rest of the text (quadratic: 20,000
  characters took 5 s). Each link is read from its ``](`` over at most ``URL_READ``
  characters; each tag is matched once, up to its ``>``, and tags inside it are not tags.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import NamedTuple

# Characters of a destination read: enough for any host (253) and for the path and query
# that decide whether a URL carries data (``exfiltration._carries_data``); longer is data.
URL_READ = 512
LINK_TEXT_MAX = 500  # how far back the ``[`` (or ``![``) of a link's text is looked for

_LINK_OPEN_RE = re.compile(r"\]\(")
_SPACE_RE = re.compile(r"[ \t]*+(?:\r?\n[ \t]*+)?")
# A destination: anything but space, control and parentheses, escapes, and balanced
# parentheses two deep (CommonMark allows 32; deeper is read up to the next space instead).
_PLAIN = r"(?:[^\s()\\]|\\.)"
_DEST_RE = re.compile(rf"(?:{_PLAIN}|\((?:{_PLAIN}|\({_PLAIN}*+\))*+\))*+")
_ANGLE_RE = re.compile(r"<([^<>\n]*+)>?")
_NEXT_SPACE_RE = re.compile(r"\s")
# What may follow a destination to close the link: a title, then ")".
_TAIL_RE = re.compile(r"""\s*+(?:(?:"[^"]*+"|'[^']*+'|\([^()]*+\))\s*+)?\)""")
_FETCHED = ("http:", "https:", "//", "data:")  # what a renderer may fetch (``//``: the page's scheme)
# One whole tag: attributes, quoted values (which may hold ``>``), up to its ``>`` or the end.
_IMG_TAG_RE = re.compile(r"<img\b(?:[^>\"']++|\"[^\"]*+\"|'[^']*+')*+>?", re.IGNORECASE)
_SRC_RE = re.compile(
    r"(?<![\w-])(src|srcset)\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'>]+))",
    re.IGNORECASE,
)


class Link(NamedTuple):
    """A URL the text points at: ``image`` if rendering fetches it; its span in the text."""

    url: str
    image: bool
    start: int
    end: int


def markdown_links(text: str) -> Iterator[Link]:
    """Inline markdown images and links, ``[text](url)`` and ``![text](url)``, whose URL a
    renderer may fetch (http, https, protocol-relative, data)."""
    previous_end = 0  # the end of the last whole link: a "](" before it is inside its URL
    spaces = _Spaces(text)
    for opened in _LINK_OPEN_RE.finditer(text):
        close = opened.start()
        if close < previous_end:
            continue
        at = _SPACE_RE.match(text, opened.end()).end()  # type: ignore[union-attr] # matches ""
        if not text[at : at + 7].lower().lstrip("<").startswith(_FETCHED):
            continue
        url, end = _destination(text, at, spaces)
        floor = max(previous_end, close - LINK_TEXT_MAX)
        bang = text.rfind("![", floor, close)
        start = bang if bang >= 0 else text.rfind("[", floor, close)
        tail = _TAIL_RE.match(text, end, at + URL_READ)
        if tail is not None:  # a whole link: what its parentheses hold is not another link
            previous_end = end = tail.end()
        yield Link(url, bang >= 0, start if start >= 0 else close, end)


class _Spaces:
    """The next whitespace at or after a position, found once for every start before it (the
    destinations of a run of "](" without a space would each scan the same run)."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._at = -1
        self._next = -1

    def after(self, at: int) -> int:
        if at > self._next or at < self._at:
            found = _NEXT_SPACE_RE.search(self._text, at)
            self._at, self._next = at, found.start() if found is not None else len(self._text)
        return self._next


def _destination(text: str, at: int, spaces: _Spaces) -> tuple[str, int]:
    """The destination starting at ``at`` (``<…>`` or bare, at most ``URL_READ`` characters)
    and where it ends."""
    limit = at + URL_READ
    if text.startswith("<", at):
        angle = _ANGLE_RE.match(text, at, limit)
        assert angle is not None  # "<" matches
        return angle.group(1), angle.end()
    end = _DEST_RE.match(text, at, limit).end()  # type: ignore[union-attr] # matches ""
    if text.startswith("(", end):  # deeper than _DEST_RE follows: read to the next space
        end = min(spaces.after(at), limit)
    return text[at:end], end


def img_tags(text: str) -> Iterator[Link]:
    """The ``src`` and every ``srcset`` candidate of each HTML ``<img>`` tag."""
    for tag in _IMG_TAG_RE.finditer(text):
        for attribute in _SRC_RE.finditer(tag.group()):
            value = attribute.group(2) or attribute.group(3) or attribute.group(4) or ""
            if attribute.group(1).lower() == "srcset":
                urls = [part.split()[0] for part in value.split(",") if part.strip()]
            else:
                urls = [value.strip()]
            for url in urls:
                if url:
                    yield Link(url[:URL_READ], True, tag.start(), tag.end())
