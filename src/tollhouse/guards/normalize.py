"""Undoing the disguises attackers put on text before the injection heuristics read it.

``unmask`` strips zero-width and bidi controls, decodes Unicode tag characters (invisible
ASCII), folds confusable letters (Cyrillic, Greek, fullwidth) to Latin and applies NFKC.
``hidden_payloads`` decodes the encodings a payload hides in — base64, hex, URL-encoding,
rot13 (when the text asks for it) — so the decoded text can be scanned again.
Every table here is built once, at import; the functions allocate only their results.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import unquote

ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff\u180e\u00ad"
BIDI = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
_STRIP = {ord(c): None for c in ZERO_WIDTH + BIDI}
# Unicode tag characters U+E0020..U+E007E mirror printable ASCII and render as nothing.
_TAGS = {0xE0000 + c: chr(c) for c in range(0x20, 0x7F)} | {0xE0001: None, 0xE007F: None}
# Letters that look Latin but are not (the common confusables; NFKC handles fullwidth forms).
_CONFUSABLES = str.maketrans(
    # Cyrillic, Latin alpha and Greek look-alikes (escaped: the file itself stays unambiguous).
    "\u0410\u0412\u0421\u0415\u041d\u0406\u0408\u041a\u041c\u041e\u0420\u0405\u0422\u0425\u0423\u0430\u0435\u0456\u0458\u043e\u0440\u0441\u0455\u0445"
    "\u0443\u0501\u04bb\u04cf\u0251\u0391\u0392\u0395\u0396\u0397\u0399\u039a\u039c\u039d\u039f\u03a1\u03a4\u03a5\u03a7\u03b1\u03bf\u03c1\u03b9\u03bd",
    "ABCEHIJKMOPSTXYaeijopcsxydhlaABEZHIKMNOPTYXaopiv",
)
_INVISIBLE_RE = re.compile(f"[{ZERO_WIDTH}{BIDI}]|[\U000e0000-\U000e007f]")
_NON_ASCII_RE = re.compile(r"[^\x00-\x7f]")
_LOOKALIKE_RE = re.compile("[\u0251\u0370-\u03ff\u0400-\u052f]")  # Latin alpha, Greek, Cyrillic
_B64_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=-_")
_HEX_CHARS = frozenset("0123456789abcdefABCDEF")
_LONG = 16  # characters: shorter tokens are not worth decoding as base64 or hex
_HEX_ESCAPE_RE = re.compile(r"(?:\\x[0-9A-Fa-f]{2}){6,}")
_SPACED_HEX_RE = re.compile(r"(?:\b[0-9A-Fa-f]{2}[ :]){9,}[0-9A-Fa-f]{2}\b")
_PUNCT = "\"'()[]{}<>,.;:!?`"
_ROT13_HINT = re.compile(r"rot-?13|caesar|rotate (?:each|every|the) letter")  # on lower-case text
_ROT_WORDS_RE = re.compile("rot(?:13|-13|ate )")  # "rot13", "rot-13" or "rotate ", on lower-case text
_ROT13_BYTES = bytes.maketrans(
    b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz",
    b"NOPQRSTUVWXYZABCDEFGHIJKLMnopqrstuvwxyzabcdefghijklm",
)


@dataclass(frozen=True, slots=True)
class Unmasked:
    """Text as a reader sees it, and what had to be undone to get there."""

    text: str
    invisible: int  # zero-width, bidi and tag characters removed
    tagged: str  # the ASCII hidden in Unicode tag characters
    confusables: bool  # Latin lookalikes from other scripts were folded


# The guards of a policy read the same segment one after another, and several of them need
# the same derived text (lower-cased, its non-ASCII characters, its long tokens): each such
# function remembers its last argument and result. By identity: the memo holds the argument,
# so an equal id is the same string; texts beyond ``_MEMO_MAX`` characters are not held.
# Each memo is one tuple, replaced whole: threads never see an argument with another's result.
_MEMO_MAX = 1 << 16
_lower_memo: list[tuple[str, str]] = [("", "")]
_non_ascii_memo: list[tuple[str, str]] = [("", "")]
_tokens_memo: list[tuple[str, tuple[tuple[int, int], ...]]] = [("", ())]


def ascii_lower(text: str) -> str:
    """``text`` with its ASCII letters lower-cased, every other character kept (offsets agree).

    For finding ASCII words in text that holds a few non-ASCII characters: ``str.lower`` then
    takes CPython's full-Unicode path, about ten times slower per character. Lower-casing the
    UTF-16 code units as bytes changes only bytes 0x41-0x5A: ASCII letters, and some non-ASCII
    characters into other non-ASCII ones (never into ASCII, never across surrogates).
    """
    last, lowered = _lower_memo[0]
    if last is text:
        return lowered
    if text.isascii():
        lowered = text.lower()
    else:
        lowered = text.encode("utf-16-le", "surrogatepass").lower().decode("utf-16-le", "surrogatepass")
    if len(text) <= _MEMO_MAX:
        _lower_memo[0] = (text, lowered)
    return lowered


_ASCII_BYTES = bytes(range(128))
# The characters outside ASCII that lower-case into ASCII (capital I with a dot, the Kelvin
# sign) or that a case-insensitive regex lets match an ASCII letter (also dotless i, long s):
# a test checks this list against every code point.
ASCII_CASE_MATES = "\u0130\u0131\u017f\u212a"
_CASE_MATES_RE = re.compile(f"[{ASCII_CASE_MATES}]")


def ascii_case_only(text: str) -> bool:
    """Whether no character of ``text`` outside ASCII is a case mate of an ASCII letter: then
    ``ascii_lower(text)`` finds an ASCII word wherever ``text.lower()`` does, and a
    case-insensitive match of ASCII words can start only where ``ascii_lower`` shows one."""
    return text.isascii() or _CASE_MATES_RE.search(non_ascii(text)) is None


def byte_skeleton(text: str, table: bytes, wide: re.Pattern[str]) -> bytes | None:
    """``text`` as one byte per character mapped through ``table`` (a ``bytes.translate``
    table; non-ASCII characters enter it as ``?``), or None when a non-ASCII character of
    ``text`` matches ``wide``: the characters a byte scan must not miss (``\\s``, ``\\d``).

    A byte pattern with a literal prefix scans the skeleton in C at memchr speed, several
    times faster than a character class scans a ``str``, and its offsets are ``text``'s.
    """
    if text.isascii():
        return text.encode().translate(table)
    if wide.search(non_ascii(text)) is not None:
        return None
    return text.encode("ascii", "replace").translate(table)


def non_ascii(text: str) -> str:
    """The non-ASCII characters of ``text``, in order: the ASCII ones are dropped in C, so a
    regex looking for non-ASCII characters reads a few dozen characters, not kilobytes."""
    last, rest = _non_ascii_memo[0]
    if last is text:
        return rest
    rest = (
        text.encode("utf-8", "surrogatepass").translate(None, _ASCII_BYTES).decode("utf-8", "surrogatepass")
    )
    if len(text) <= _MEMO_MAX:
        _non_ascii_memo[0] = (text, rest)
    return rest


# Whitespace (as ``str.split`` sees it) a space, every other character an "x".
_WORDS = bytes(0x20 if chr(c).isspace() else 0x78 for c in range(256))
_LONG_X = b"x" * _LONG
_SPACE_RE = re.compile(r"\s")


def long_tokens(text: str) -> list[tuple[int, int]]:
    """``[start, end)`` of each whitespace-separated token of ``text`` at least 16 characters
    long, in order: the tokens ``str.split`` returns that are that long.

    Found over a byte skeleton of the text (splitting a 2 KB prompt into words costs several
    times more); a text with non-ASCII whitespace is split the ordinary way.
    """
    last, found = _tokens_memo[0]
    if last is not text:
        found = tuple(_long_tokens(text))
        if len(text) <= _MEMO_MAX:
            _tokens_memo[0] = (text, found)
    return list(found)


def _long_tokens(text: str) -> list[tuple[int, int]]:
    skeleton = byte_skeleton(text, _WORDS, _SPACE_RE)
    spans = []
    if skeleton is not None:
        # bytes.find: the first long token from ``at`` on starts where 16 non-spaces first do.
        at = skeleton.find(_LONG_X)
        while at >= 0:
            end = skeleton.find(b" ", at + _LONG)
            end = end if end >= 0 else len(skeleton)
            spans.append((at, end))
            at = skeleton.find(_LONG_X, end)
        return spans
    at = 0
    for token in text.split():
        if len(token) >= _LONG:  # only long tokens need a position (no earlier copy can hide one)
            at = text.find(token, at)
            spans.append((at, at + len(token)))
            at += len(token)
    return spans


def hidden_marks(text: str) -> tuple[int, bool]:
    """How many invisible characters (zero-width, bidi controls, Unicode tags) ``text`` holds,
    and whether its tag characters spell something: what ``unmask`` reports as ``invisible``
    and ``tagged``, without folding the text (a tenth of the time on a non-ASCII megabyte)."""
    if text.isascii():
        return 0, False
    hidden = _INVISIBLE_RE.findall(non_ascii(text))
    return len(hidden), any(0xE0020 <= ord(c) <= 0xE007E for c in hidden)


def unmask(text: str) -> Unmasked:
    """Fold ``text`` to what it says; fast path for plain ASCII."""
    if text.isascii():
        return Unmasked(text, 0, "", False)
    # The characters looked for are all non-ASCII: the regexes read only those.
    original, rest = text, non_ascii(text)
    invisible = len(_INVISIBLE_RE.findall(rest))
    tagged = ""
    if invisible:
        tagged = "".join(_TAGS.get(ord(c)) or "" for c in text if 0xE0000 <= ord(c) <= 0xE007F)
        text = text.translate(_STRIP).translate(_TAGS)
    # Each step only when it can change something: translating non-ASCII text is slow.
    folded = text if unicodedata.is_normalized("NFKC", text) else unicodedata.normalize("NFKC", text)
    confusables = False
    if _LOOKALIKE_RE.search(rest if folded is original else folded) is not None:
        confusables = _mixed_scripts(folded)
        folded = folded.translate(_CONFUSABLES)
    return Unmasked(folded, invisible, tagged, confusables)


def _mixed_scripts(text: str) -> bool:
    """A word mixing Latin with Cyrillic or Greek letters: the homoglyph trick's signature."""
    for word in text.split():
        if word.isascii() or not _NON_ASCII_RE.search(word):
            continue
        latin = any("a" <= c.lower() <= "z" for c in word)
        other = any(unicodedata.name(c, "").startswith(("CYRILLIC", "GREEK")) for c in word)
        if latin and other:
            return True
    return False


def _printable(data: bytes) -> str | None:
    try:
        decoded = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    letters = sum(c.isalpha() or c == " " for c in decoded)
    return decoded if len(decoded) >= 8 and letters >= 0.7 * len(decoded) else None


def _base64(token: str) -> str | None:
    padded = token + "=" * (-len(token) % 4)
    try:
        raw = base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        return None
    return _printable(raw)


def _token_payload(token: str) -> str | None:
    """A long token decoded as base64 or hex, when it decodes to readable text."""
    chars = set(token)
    if chars <= _HEX_CHARS and len(token) % 2 == 0:
        return _printable(bytes.fromhex(token))
    if chars <= _B64_CHARS and not (token.isalpha() and (token.islower() or token.isupper())):
        return _base64(token)
    return None


def _hex_pairs_likely(text: str) -> bool:
    """At least ten space- or colon-separated pairs that start like hex-encoded letters."""
    # Each pair holds its own "6" or "7": with fewer than ten of those (most texts), no pairs
    # need counting (one-character counts are the cheap ones).
    if text.count("6") + text.count("7") < 10:
        return False
    return text.count(" 6") + text.count(" 7") + text.count(":6") + text.count(":7") >= 10


def hidden_payloads(text: str, lowered: str | None = None) -> list[str]:
    """Texts hidden in ``text`` by an encoding, decoded (empty when there are none);
    ``lowered``: ``text`` lower-cased, when the caller has it.

    Only tokens of 16+ characters can be base64 or hex, and prose has few: they are found
    in C (``long_tokens``), without splitting the text into words; the regexes run only
    when their marker character is present.
    """
    found: list[str] = []
    for start, end in long_tokens(text):
        token = text[start:end].strip(_PUNCT)
        if token.startswith("0x"):
            token = token[2:]
        if len(token) >= 16 and (decoded := _token_payload(token)) is not None:
            found.append(decoded)
    if "\\" in text and "\\x" in text:  # one character first: memchr, not a substring search
        for match in _HEX_ESCAPE_RE.finditer(text):
            if (decoded := _printable(bytes.fromhex(match.group().replace("\\x", "")))) is not None:
                found.append(decoded)
    # "69 67 6e …": hex written in pairs; printable ASCII starts with 2-7, letters with 6 or 7.
    if _hex_pairs_likely(text):
        for match in _SPACED_HEX_RE.finditer(text):
            digits = match.group().replace(" ", "").replace(":", "")
            if (decoded := _printable(bytes.fromhex(digits))) is not None:
                found.append(decoded)
    if text.count("%") >= 4:
        # Only the URL-encoded runs are decoded (and scanned together): a long text with a
        # few "%20"s is not scanned twice.
        encoded = [unquote(t) for t in text.split() if t.count("%") >= 3]
        if encoded:
            found.append(" ".join(encoded))
    lowered = ascii_lower(text) if lowered is None else lowered
    # Cheap checks first ("rot" alone is in "protect" and "protocol"): a literal-prefix scan for
    # the rot words (faster than a substring search per word), then "caesar".
    hinted = _ROT_WORDS_RE.search(lowered) is not None or "caesar" in lowered
    if hinted and _ROT13_HINT.search(lowered):
        # bytes.translate on ASCII text: the rot13 codec maps character by character in C, slowly.
        ascii_text = text.isascii()
        found.append(
            text.encode().translate(_ROT13_BYTES).decode() if ascii_text else codecs.decode(text, "rot13")
        )
    return found
