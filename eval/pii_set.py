"""Synthetic PII in realistic sentences: presidio-evaluator's templates filled with Faker.

Only values in valid formats are used — a phone number ``phonenumbers`` accepts for its
region, a Luhn-valid card of a real network, a mod-97-valid IBAN, an SSN the SSA could
issue — because a number no network or registry could have issued is not personal data a
validator should flag. Each sample keeps the spans it planted, so recall and precision are
counted per entity type. Cards are also written with spaces and dashes, as people do.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

import phonenumbers
from faker import Faker

DATA = Path(__file__).parent / "data"
_SLOT_RE = re.compile(r"\{\{(\w+)\}\}")
# Our entity type for each template slot; other slots (names, cities…) are filled, not scored.
ENTITY_OF = {
    "credit_card_number": "CREDIT_CARD",
    "phone_number": "PHONE",
    "email": "EMAIL",
    "iban": "IBAN",
    "ssn": "US_SSN",
    "ip_address": "IP_ADDRESS",
    "address": "ADDRESS",
    "date_of_birth": "DATE_OF_BIRTH",
}
_IBAN_LOCALES = ("de_DE", "fr_FR", "en_GB", "es_ES", "it_IT", "nl_NL", "pl_PL", "pt_PT")
# Extra templates for entities presidio's set has few of (ours, Apache-2.0).
EXTRA_TEMPLATES = (
    "My date of birth is {{date_of_birth}} and my SSN is {{ssn}}.",
    "Please wire the refund to {{iban}}, account holder {{person}}.",
    "The server at {{ip_address}} keeps rejecting my login.",
    "Call me back on {{phone_number}} after 5pm, or email {{email}}.",
    "Ship it to {{address}}, leave it with the neighbour if I'm out.",
    "Patient {{person}}, born {{date_of_birth}}, phone {{phone_number}}.",
    "Card {{credit_card_number}} was charged twice; my SSN for verification is {{ssn}}.",
    "Requests from {{ip_address}} and {{ip_address}} look like the same client.",
)


# Slots that are part of an address the template did not mark as one ({{building_number}}
# {{street_name}}…): an ADDRESS finding there is right, though not counted as planted.
_ADDRESS_PARTS = frozenset(
    {
        "building_number",
        "street_name",
        "secondary_address",
        "city",
        "zipcode",
        "postcode",
        "state_abbr",
        "street_address",
    }
)
_BIRTH_CONTEXT = re.compile(r"(?i)born|birth|\bdob\b|d\.o\.b")


@dataclass
class PIISample:
    text: str
    spans: list[tuple[str, int, int]] = field(default_factory=list)  # (entity, start, end)
    neutral: list[tuple[str, int, int]] = field(default_factory=list)  # findings here are not errors


def _valid_phone(fake: Faker) -> str:
    while True:
        number = fake.phone_number()
        try:
            parsed = phonenumbers.parse(number, "US")
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(parsed):
            return str(number)


def _card(fake: Faker, rng: random.Random) -> str:
    digits = str(fake.credit_card_number())
    style = rng.choice(["plain", "spaces", "dashes"])
    if style == "plain" or len(digits) not in (15, 16):
        return digits
    groups = (
        [digits[0:4], digits[4:10], digits[10:]]
        if len(digits) == 15
        else [digits[i : i + 4] for i in range(0, 16, 4)]
    )
    return (" " if style == "spaces" else "-").join(groups)


def _value(slot: str, fake: Faker, rng: random.Random) -> str:
    if slot == "phone_number":
        return _valid_phone(fake)
    if slot == "credit_card_number":
        return _card(fake, rng)
    if slot == "iban":
        return str(Faker(rng.choice(_IBAN_LOCALES)).iban())
    if slot == "ip_address":
        return str(fake.ipv4_public() if rng.random() < 0.7 else fake.ipv6())
    if slot == "date_of_birth":
        return str(fake.date_of_birth(minimum_age=18, maximum_age=90))
    if slot == "address":
        return str(fake.address()).replace("\n", ", ")
    if slot in ("ssn", "email"):
        return str(getattr(fake, slot)())
    try:
        return str(getattr(fake, slot)())
    except AttributeError:
        return fake.word()


def _fill(template: str, fake: Faker, rng: random.Random) -> PIISample:
    sample = PIISample("")
    out, at = [], 0
    for m in _SLOT_RE.finditer(template):
        out.append(template[at : m.start()])
        value = _value(m.group(1), fake, rng)
        start = sum(len(p) for p in out)
        out.append(value)
        slot = m.group(1)
        span = (start, start + len(value))
        if slot == "date_of_birth" and not _BIRTH_CONTEXT.search(_SLOT_RE.sub("", template)):
            sample.neutral.append(("DATE_OF_BIRTH", *span))  # a bare date: nothing says it is a birth date
        elif slot in ENTITY_OF:
            sample.spans.append((ENTITY_OF[slot], *span))
        elif slot in _ADDRESS_PARTS:
            sample.neutral.append(("ADDRESS", *span))
        at = m.end()
    out.append(template[at:])
    sample.text = "".join(out)
    return sample


def pii_samples(rounds: int = 6, seed: int = 11) -> list[PIISample]:
    """Every template filled ``rounds`` times (templates without our entities test precision)."""
    Faker.seed(seed)
    fake = Faker("en_US")
    rng = random.Random(seed)
    lines = (DATA / "presidio_templates.txt").read_text(encoding="utf-8", errors="replace").splitlines()
    # The template file writes line breaks as a literal backslash-n (and escapes commas).
    templates = [t.strip().replace("\\n", "\n").replace("\\,", ",") for t in lines if t.strip()]
    templates += EXTRA_TEMPLATES
    # presidio writes date_of_birth without context in a few templates: keep those that say it is one.
    return [_fill(t, fake, rng) for _ in range(rounds) for t in templates]
