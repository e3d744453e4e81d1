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
from tollhouse.guards.normalize import ascii_lower
from tollhouse.guards.verdict import Finding, Scope

ENTITIES = pat.ENTITIES
_STRIP = "()[]{}<>,.;!?\"'"


_DOB_RE = re.compile(r"d\.?o\.?b")  # on lower-case text: dob, d.o.b


class PIIDetector:
    """Validated personal data of the configured ``entities``."""

    name = "pii"

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
            for at in pat.AT_RE.finditer(text):
                around = pat.EMAIL_RE.finditer(text, max(0, at.start() - 64), at.end() + 255)
                m = next((m for m in around if m.start() <= at.start() < m.end()), None)
                if m is not None and ".." not in m.group():
                    found.append(Finding("EMAIL", *m.span()))
        if "IP_ADDRESS" in want and text.count(":") >= 2:
            found.extend(_ipv6(text))
        if "ADDRESS" in want:
            found.extend(_marked_addresses(text, lowered))
        covered = -1
        # Once per text, not per number: a birth date needs one of these words before it.
        birth = "born" in lowered or "birth" in lowered or _DOB_RE.search(lowered) is not None
        for run in pat.DIGITS_RE.finditer(text):
            start, end = run.span()
            if start < covered:
                continue
            finding = self._at(text, start, end, birth)
            if finding is not None:
                found.append(finding)
                covered = finding.end
        return drop_overlaps(found) if len(found) > 1 else found

    def _at(self, text: str, start: int, end: int, birth: bool) -> Finding | None:
        """What the digit run at ``[start, end)`` belongs to, if anything (``birth``: the text
        has words that announce a birth date)."""
        want = self._entities
        if "ADDRESS" in want and (address := _street(text, start, end)) is not None:
            return address
        lead = text[start - 2 : start] if start >= 2 else ""  # an IBAN's two capitals
        if (
            "IBAN" in want
            and lead.isalpha()
            and lead.isupper()
            and (m := pat.IBAN_RE.match(text, start - 2))
            and iban(m.group())
        ):
            return Finding("IBAN", *m.span())
        if "NATIONAL_ID" in want and (found := _lettered_id(text, start, end)) is not None:
            return found
        ip = pat.IPV4_RE.match(text, start) if text[end : end + 1] == "." else None
        if "IP_ADDRESS" in want and ip is not None and all(int(p) <= 255 for p in ip.group().split(".")):
            return Finding("IP_ADDRESS", *ip.span())
        if birth and "DATE_OF_BIRTH" in want and (found := _birth_date(text, start)) is not None:
            return found
        begin = start
        while begin > 0 and text[begin - 1] in "+(":
            begin -= 1
        number = pat.NUMBER_RE.match(text, begin)
        if number is not None:
            kind = self._classify(number.group(), text, begin)
            if kind is not None and kind in want:
                return Finding(kind, *number.span())
        return None

    def _classify(self, raw: str, text: str, start: int) -> str | None:
        if pat.EXTENSION_RE.search(raw) is not None:  # only a phone number has an extension
            return "PHONE" if self._phone(raw) else None
        digits = "".join(c for c in raw if c.isdigit())
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
        if 7 <= n <= 15 and not pat.DATE_LIKE_RE.match(raw) and self._phone(raw):
            return "PHONE"
        return None

    def _phone(self, raw: str) -> bool:
        regions: tuple[str | None, ...] = (None,) if raw.startswith("+") else self._regions
        for region in regions:
            try:
                number = phonenumbers.parse(raw, region)
            except phonenumbers.NumberParseException:
                continue
            if phonenumbers.is_valid_number(number):
                return True
        return False


def _street(text: str, start: int, end: int) -> Finding | None:
    """A street address starting at this number, or a US "City, ST 12345" / UK postcode ending here."""
    if start == 0 or not text[start - 1].isalnum():
        m = pat.ADDRESS_RE.match(text, start)
        if m is not None:
            return Finding("ADDRESS", *m.span())
    if end - start == 5 and text[start - 1 : start] == " ":
        m = pat.CITY_ZIP_RE.search(text, max(0, start - 60), min(len(text), end + 5))
        if m is not None and m.start() < start < m.end():
            return Finding("ADDRESS", *m.span())
    # A postcode's digits follow a capital ("SW1A") or precede two ("1AA").
    if not (text[start - 1 : start].isupper() or text[end : end + 1].isupper()):
        return None
    m = pat.UK_POSTCODE_RE.search(text, max(0, start - 4), min(len(text), end + 5))
    if m is not None and m.start() <= start < m.end():
        return Finding("ADDRESS", *m.span())
    return None


def _marked_addresses(text: str, lowered: str) -> list[Finding]:
    """Addresses that begin with words, not numbers: PO boxes and US military mail."""
    found: list[Finding] = []
    if "box" in lowered:
        found.extend(Finding("ADDRESS", *m.span()) for m in pat.PO_BOX_RE.finditer(text))
    if "PO A" in text:  # APO / FPO / DPO AA|AE|AP
        found.extend(Finding("ADDRESS", *m.span()) for m in pat.MILITARY_RE.finditer(text))
    return found


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
    """IPv6 addresses: the whitespace-delimited words around colons that parse as one."""
    found: list[Finding] = []
    at = text.find(":")
    while at >= 0:
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
        at = text.find(":", end)
    return found
