"""Personal data, validated: e-mail addresses, phone numbers (``phonenumbers``), payment
cards (issuer range + Luhn), IBANs (length + mod 97), US SSNs (SSA rules), IP addresses,
dates of birth (with context), postal addresses, and national ids that carry a checksum
(Spain DNI/NIE, India Aadhaar, Netherlands BSN, France NIR) or a strict format (UK NINO).

Everything but e-mail addresses (found around each ``@``) and IPv6 addresses contains a
digit, so the text is scanned once for digit runs and each run is tried, anchored where it
starts, as an address, an IBAN, an id, an IPv4 address, a date of birth, then a number
(card, SSN, national id, phone — in that order), so a value is reported as one thing.
"""

from __future__ import annotations

import ipaddress
import re
from typing import ClassVar

import phonenumbers

from tollhouse.guards.detector import CallState
from tollhouse.guards.detectors import pii_patterns as pat
from tollhouse.guards.detectors.pii_checks import (
    card_issuer,
    dutch_bsn,
    french_nir,
    iban,
    luhn,
    plausible_birth_date,
    spanish_id,
    us_ssn,
    verhoeff,
)
from tollhouse.guards.detectors.secrets import drop_overlaps
from tollhouse.guards.normalize import ascii_lower, byte_skeleton
from tollhouse.guards.verdict import Finding, Scope

ENTITIES = pat.ENTITIES
_STRIP = "()[]{}<>,.;!?\"'"


# On lower-case text: "born", "birth", or dob / d.ob / do.b / d.o.b. One scan for a "b" (a
# literal prefix: a fast search), where a substring search per word reads the text each time.
_BIRTH_WORDS_RE = re.compile(r"b(?:orn|irth|(?<=dob)|(?<=d\.ob)|(?<=do\.b)|(?<=d\.o\.b))")
# Digit runs found over a byte skeleton of the text: a literal prefix makes the scan a fast
# search, where ``\d+`` over a str tests every character. The skeleton keeps what the checks
# below read around a run: digits "d", a space "s", "()-." as they are, other whitespace "w",
# capitals "U", any other character outside ASCII (and "?") "?", the rest "o".
_CONTEXT = bytes(
    0x64 if 0x30 <= c <= 0x39
    else 0x73 if c == 0x20
    else c if chr(c) in "().-"
    else 0x77 if chr(c).isspace()
    else 0x55 if 0x41 <= c <= 0x5A
    else 0x3F if c == 0x3F or c >= 0x80
    else 0x6F
    for c in range(256)
)  # fmt: skip
_RUN_RE = re.compile(b"dd*")
# The runs the loop below can do anything with when no birth date is announced (a superset of
# its test, in C: most numbers in prose are none of these): a capital (or any non-ASCII
# character) just before it, or before a space just before it; 5+ digits; 6 digits, spaces,
# brackets, dots or dashes after its first (NUMBER_RE); the shape of an IPv4 address (what a
# dot after it can lead to); a capital after it, or whitespace then a capital or whitespace.
_CANDIDATE_RE = re.compile(
    rb"d(?<!dd)(?:(?<=[U?]d)|(?<=[U?]sd)"
    rb"|(?=d{4}|[ds().\-]{6}|d{0,2}\.d{1,3}\.d{1,3}\.d|d*(?:[U?]|[sw?][Usw?])))d*"
)
_NUMBER_BYTES = b"ds().-"  # NUMBER_RE's characters in the skeleton
_DIGIT_RE = re.compile(r"\d")
_NUMBER_CHARS = frozenset(" ().-")  # besides digits, what NUMBER_RE reads (a set: "" is not in it)
_NOT_BEFORE = frozenset("_./-")  # with letters and digits: what NUMBER_RE's lookbehind refuses
# "box", "PO A": a regex's literal-prefix scan finds these faster than ``in`` (a substring
# search that reads every character for short words).
_BOX_RE = re.compile("box")
_PO_A_RE = re.compile("PO A")
# Two colons at most four hex digits apart: in every IPv6 address, in few other words.
_IPV6_HINT_RE = re.compile(r":[0-9A-Fa-f]{0,4}:")


class PIIDetector:
    """Validated personal data of the configured ``entities``."""

    name = "pii"
    pure = True  # findings depend on the text and scope alone (``guards/memo.py``)
    # How far past its end a finding of a kind can still grow as more text arrives (for the
    # stream window): a street is an address by itself, and its apartment, city, state and
    # ZIP may follow (``ADDRESS_RE``: up to about 70 characters).
    grows: ClassVar[dict[str, int]] = {"ADDRESS": 72}

    def __init__(
        self, entities: frozenset[str] = ENTITIES, phone_regions: tuple[str, ...] = ("US", "GB")
    ) -> None:
        self._entities = entities
        self._regions = phone_regions

    def detect(self, text: str, scope: Scope, state: CallState) -> list[Finding]:
        want = self._entities
        found: list[Finding] = []
        lowered = ascii_lower(text)  # for word checks only
        if "EMAIL" in want and "@" in text:
            found.extend(_emails(text))
        if "IP_ADDRESS" in want and text.count(":") >= 2:
            found.extend(_ipv6(text))
        if "ADDRESS" in want:
            found.extend(_marked_addresses(text, lowered))
        covered = -1
        phones = _PhoneChecks(self._regions)
        # Once per text, not per number: a birth date needs one of these words before it.
        birth = _BIRTH_WORDS_RE.search(lowered) is not None
        skeleton = byte_skeleton(text, _CONTEXT, _DIGIT_RE)
        scan = _RUN_RE if birth else _CANDIDATE_RE  # with a birth date announced, every run counts
        runs = scan.finditer(skeleton) if skeleton is not None else pat.DIGITS_RE.finditer(text)
        for run in runs:
            start, end = run.span()
            if start < covered:
                continue
            before = text[start - 1] if start else ""
            after = text[end : end + 1]
            size = end - start
            # NUMBER_RE: 7+ characters of digits, spaces, brackets, dots and dashes from the run
            # on, and no word character, dot, slash or dash (a "+" or "(" may) just before it.
            number = (size >= 7 or after in _NUMBER_CHARS) and not (before.isalnum() or before in _NOT_BEFORE)
            if number and skeleton is not None and size < 7:
                head = skeleton[start + 1 : start + 7]
                number = len(head) == 6 and not head.translate(None, _NUMBER_BYTES)
            # Most numbers in prose can be none of the shapes: each of the others needs a capital
            # next to it (IBAN, postcode, NINO, a street's name), a dot and a digit after at most
            # three (IPv4: not "3.5%", "1. "), 5 digits after a space (a ZIP code), 7+ digits
            # (ids), or a birth date announced in the text.
            if not (
                number
                or birth
                or size >= 7
                or (after == "." and size <= 3 and text[end + 1 : end + 2].isdecimal())
                or before.isupper()
                or after.isupper()
                or (after.isspace() and _capital_or_space(text[end + 1 : end + 2]))
                or (
                    before == " "
                    and (size == 5 or (size in (2, 6) and text[start - 2 : start - 1].isupper()))
                )
            ):
                continue
            finding = self._at(text, start, end, birth, before, after, number, phones)
            if finding is not None:
                found.append(finding)
                covered = finding.end
        return drop_overlaps(found) if len(found) > 1 else found

    def _at(
        self,
        text: str,
        start: int,
        end: int,
        birth: bool,
        before: str,
        after: str,
        number: bool,
        phones: _PhoneChecks,
    ) -> Finding | None:
        """What the digit run at ``[start, end)`` belongs to, if anything (``birth``: the text
        has words that announce a birth date; ``before``, ``after``: the characters around the
        run, "" at either end of the text; ``number``: NUMBER_RE may match from it). Each
        shape is tried only when those allow it."""
        want = self._entities
        size = end - start
        if (
            "ADDRESS" in want
            and (after.isspace() or before.isupper() or after.isupper() or (size == 5 and before == " "))
            and (address := _street(text, start, end, before, after)) is not None
        ):
            return address
        if "IBAN" in want and "A" <= before <= "Z" and start >= 2:
            lead = text[start - 2 : start]  # an IBAN's two capitals
            if (
                lead.isalpha()
                and lead.isupper()
                and (m := pat.IBAN_RE.match(text, start - 2))
                and iban(m.group())
            ):
                return Finding("IBAN", *m.span())
        if (
            "NATIONAL_ID" in want
            and (7 <= size <= 8 or size in (2, 6))
            and (found := _lettered_id(text, start, end)) is not None
        ):
            return found
        if "IP_ADDRESS" in want and after == ".":
            ip = pat.IPV4_RE.match(text, start)
            if ip is not None and all(int(p) <= 255 for p in ip.group().split(".")):
                return Finding("IP_ADDRESS", *ip.span())
        if birth and "DATE_OF_BIRTH" in want and (found := _birth_date(text, start)) is not None:
            return found
        if not number:
            return None
        begin = start
        while begin > 0 and text[begin - 1] in "+(":
            begin -= 1
        match = pat.NUMBER_RE.match(text, begin)
        if match is not None:
            kind = self._classify(match.group(), text, begin, phones)
            if kind is not None and kind in want:
                return Finding(kind, *match.span())
        return None

    def _classify(self, raw: str, text: str, start: int, phones: _PhoneChecks) -> str | None:
        if pat.EXTENSION_RE.search(raw) is not None:  # only a phone number has an extension
            return "PHONE" if phones.valid(raw) else None
        digits = "".join(c for c in raw if c.isdecimal())
        if not digits.isascii():  # another script's digits (Arabic-Indic, Devanagari…): their values
            digits = "".join(str(int(c)) for c in digits)
        n = len(digits)
        if 12 <= n <= 19 and luhn(digits) and card_issuer(digits):
            return "CREDIT_CARD"
        ssn = pat.SSN_RE.fullmatch(raw)
        if ssn is not None:
            return "US_SSN" if us_ssn(*ssn.groups()) else None
        context = text[max(0, start - 40) : start]
        if n == 9 and pat.SSN_CONTEXT.search(context) and us_ssn(digits[:3], digits[3:5], digits[5:]):
            return "US_SSN"
        if n == 12 and digits[0] not in "01" and verhoeff(digits):
            return "NATIONAL_ID"
        if n == 9 and pat.BSN_CONTEXT.search(context) and dutch_bsn(digits):
            return "NATIONAL_ID"
        if n == 15 and french_nir(digits):
            return "NATIONAL_ID"
        if 7 <= n <= 15 and not pat.DATE_LIKE_RE.match(raw) and phones.valid(raw):
            return "PHONE"
        return None


class _PhoneChecks:
    """Whether numbers of one text are valid phone numbers (about 75 µs a check): each distinct
    number checked once, and shapes no phone is written in never — more than six digit
    groups, more than two groups of one digit, more than one parenthesis. Numbers written in
    groups overlap, so a text such as "1 2 3 4 …" or "(123) (456) …" made a failing check at
    every group: 37 µs a character, minutes for a large body."""

    __slots__ = ("_regions", "_seen")

    def __init__(self, regions: tuple[str, ...]) -> None:
        self._regions = regions
        self._seen: dict[str, bool] = {}

    def valid(self, raw: str) -> bool:
        seen = self._seen.get(raw)
        if seen is None:
            groups = pat.DIGITS_RE.findall(raw)
            implausible = len(groups) > 6 or sum(len(g) == 1 for g in groups) > 2 or raw.count("(") > 1
            seen = self._seen[raw] = not implausible and _valid_phone(raw, self._regions)
        return seen


def _valid_phone(raw: str, regions: tuple[str, ...]) -> bool:
    tried: tuple[str | None, ...] = (None,) if raw.startswith("+") else regions
    for region in tried:
        try:
            number = phonenumbers.parse(raw, region)
        except phonenumbers.NumberParseException:
            continue
        # A valid number is a possible one (its length fits): the cheap test first.
        if phonenumbers.is_possible_number(number) and phonenumbers.is_valid_number(number):
            return True
    return False


def _emails(text: str) -> list[Finding]:
    """The email addresses around each "@". An address reaches at most 64 characters before
    its "@" and 255 after; the stretches around "@"s that close together are read as one, so
    a text full of "@" is read once, not once per "@" (``"a@" * 20_000`` took 120 ms)."""
    found: list[Finding] = []
    ats = pat.AT_RE.finditer(text)
    at = next(ats, None)
    while at is not None:
        low, high = max(0, at.start() - 64), at.end() + 255
        at = next(ats, None)
        while at is not None and at.start() - 64 < high:
            high, at = at.end() + 255, next(ats, None)
        for m in pat.EMAIL_RE.finditer(text, low, high):
            if ".." not in m.group():
                found.append(Finding("EMAIL", *m.span()))
    return found


def _capital_or_space(char: str) -> bool:
    """After a street number's space: its name's capital (or more space)."""
    return "A" <= char <= "Z" or char.isspace()


def _street(text: str, start: int, end: int, before: str, after: str) -> Finding | None:
    """A street address starting at this number, or a US "City, ST 12345" / UK postcode ending
    here (``before``, ``after``: the characters around the run, "" at either end of ``text``)."""
    # ADDRESS_RE starts with 1-6 digits, an optional capital and a space: test those first.
    if (
        not before.isalnum()
        and end - start <= 6
        and (after.isspace() or ("A" <= after <= "Z" and text[end + 1 : end + 2].isspace()))
    ):
        m = pat.ADDRESS_RE.match(text, start)
        if m is not None:
            return Finding("ADDRESS", *m.span())
    if end - start == 5 and before == " ":
        m = pat.CITY_ZIP_RE.search(text, max(0, start - 60), min(len(text), end + 5))
        if m is not None and m.start() < start < m.end():
            return Finding("ADDRESS", *m.span())
    # A postcode's digits follow a capital ("SW1A") or precede two ("1AA").
    if not (before.isupper() or after.isupper()):
        return None
    m = pat.UK_POSTCODE_RE.search(text, max(0, start - 4), min(len(text), end + 5))
    if m is not None and m.start() <= start < m.end():
        return Finding("ADDRESS", *m.span())
    return None


def _marked_addresses(text: str, lowered: str) -> list[Finding]:
    """Addresses that begin with words, not numbers: PO boxes and US military mail."""
    found: list[Finding] = []
    if _BOX_RE.search(lowered) is not None and _po_before_box(lowered):
        found.extend(Finding("ADDRESS", *m.span()) for m in pat.PO_BOX_RE.finditer(text))
    if _PO_A_RE.search(text) is not None:  # APO / FPO / DPO AA|AE|AP
        found.extend(Finding("ADDRESS", *m.span()) for m in pat.MILITARY_RE.finditer(text))
    return found


def _po_before_box(lowered: str) -> bool:
    """Whether some "box" follows whitespace after an "o" or a dot, as in every PO box ("P.O. Box",
    "PO  box"): most texts with the word ("inbox", "checkbox") are not scanned for one."""
    at = lowered.find("box", 1)
    while at >= 0:
        begin = at
        while begin > 0 and lowered[begin - 1].isspace():
            begin -= 1
        if begin < at and lowered[begin - 1 : begin] in ("o", "."):
            return True
        at = lowered.find("box", at + 1)
    return False


def _lettered_id(text: str, start: int, end: int) -> Finding | None:
    """Ids with letters around their digits: Spain's DNI/NIE (7 or 8 digits), the UK's NINO
    (two capitals, then 6 digits or 2 and 2 and 2)."""
    size = end - start
    for begin in (start - 1, start) if 7 <= size <= 8 else ():
        if begin >= 0 and (m := pat.ES_ID_RE.match(text, begin)) and spanish_id(m.group().replace("-", "")):
            return Finding("NATIONAL_ID", *m.span())
    before = text[start - 2 : start - 1] if text[start - 1 : start] == " " else text[start - 1 : start]
    if size not in (2, 6) or not before.isupper():
        return None
    for begin in (start - 3, start - 2):
        if begin >= 0 and (m := pat.NINO_RE.match(text, begin)) is not None:
            return Finding("NATIONAL_ID", *m.span())
    return None


def _birth_date(text: str, start: int) -> Finding | None:
    """A date at ``start`` (or a month name just before it) that the words before call a birth date."""
    word = text.rfind(" ", 0, max(0, start - 1)) + 1
    for begin in (start, word):
        m = pat.DATE_RE.match(text, begin)
        if m is not None and pat.BIRTH_CONTEXT_RE.search(text, max(0, begin - 48), begin) and _valid(m):
            return Finding("DATE_OF_BIRTH", *m.span())
    return None


def _valid(m: re.Match[str]) -> bool:
    g = m.groupdict()
    if g["y1"]:
        return plausible_birth_date(int(g["y1"]), int(g["m1"]), int(g["d1"]))
    if g["y2"]:
        a, b, y = int(g["a2"]), int(g["b2"]), int(g["y2"])
        return plausible_birth_date(y, a, b) or plausible_birth_date(y, b, a)
    month, day, year = (g["mn3"], g["d3"], g["y3"]) if g["y3"] else (g["mn4"], g["d4"], g["y4"])
    return plausible_birth_date(int(year), pat.MONTH_NUMBERS[month[:3].lower()], int(day))


def _ipv6(text: str) -> list[Finding]:
    """IPv6 addresses: the whitespace-delimited words around colons that parse as one.

    Only words with two colons at most four hex digits apart can be one (``::``, ``:db8:``),
    so those are the only ones tried.
    """
    found: list[Finding] = []
    end = 0
    for hint in _IPV6_HINT_RE.finditer(text):
        at = hint.start()
        if at < end:  # in the word just tried
            continue
        start = max(text.rfind(" ", 0, at), text.rfind("\n", 0, at)) + 1
        ends = [e for e in (text.find(" ", at), text.find("\n", at)) if e >= 0]
        end = min(ends) if ends else len(text)
        value = text[start:end].strip(_STRIP)
        if value.count(":") >= 2:
            try:
                ipaddress.IPv6Address(value)
            except ValueError:
                pass
            else:
                begin = text.find(value, start)
                found.append(Finding("IP_ADDRESS", begin, begin + len(value)))
    return found
