"""The shapes of personal data: the regular expressions ``pii`` anchors at digit runs.

Every pattern here is compiled once at import. Most are tried only at the position of a
digit run (``match``, not ``search``), so a text costs one scan for digits plus a few
anchored attempts per number in it.
"""

from __future__ import annotations

import re

ENTITIES = frozenset({
    "EMAIL", "PHONE", "CREDIT_CARD", "IBAN", "US_SSN", "IP_ADDRESS", "DATE_OF_BIRTH", "ADDRESS",
    "NATIONAL_ID",
})  # fmt: skip

EMAIL_RE = re.compile(r"[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})*\.[A-Za-z]{2,24}\b")
NUMBER_RE = re.compile(
    r"(?<![\w.+/-])\+?\(?\d[\d ().-]{5,26}\d(?:\s?(?:x|ext\.?)\s?\d{1,5})?(?![\w/]|-\d|\.\d)"
)
EXTENSION_RE = re.compile(r"\s?(?:x|ext\.?)\s?\d{1,5}$")
DIGITS_RE = re.compile(r"\d+")
AT_RE = re.compile("@")
SSN_RE = re.compile(r"(\d{3})[- ](\d{2})[- ](\d{4})")
DATE_LIKE_RE = re.compile(r"\d{4}[-/.]\d{1,2}[-/.]\d{1,2}|\d{1,2}[-/.]\d{1,2}[-/.]\d{2,4}")
IBAN_RE = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b")
IPV4_RE = re.compile(r"(?<![\w.])(?:\d{1,3}\.){3}\d{1,3}(?![\w.]|\.\d)")
IPV6_RE = re.compile(r"(?<![\w:])(?:[0-9A-Fa-f]{1,4}:|:){2,7}(?::|[0-9A-Fa-f]{1,4})(?![\w:])")
ES_ID_RE = re.compile(r"\b[XYZxyz]?\d{7,8}-?[A-Za-z]\b")
NINO_RE = re.compile(
    r"\b(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z] ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b"
)
MONTHS = "jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
BIRTH_CONTEXT_RE = re.compile(
    r"(?i:\b(?:born(?:\s+on)?|d\.?o\.?b\.?|date\s+of\s+birth|birth\s*date|birthday)\b)[^0-9\n]{0,24}$"
)
# A date, anchored where it starts: ISO, day/month/year either way round, or with a month name.
DATE_RE = re.compile(
    r"(?P<y1>\d{4})-(?P<m1>\d{1,2})-(?P<d1>\d{1,2})\b"
    r"|(?P<a2>\d{1,2})[/.](?P<b2>\d{1,2})[/.](?P<y2>\d{4})\b"
    rf"|(?P<mn3>(?i:{MONTHS}))\.?\s+(?P<d3>\d{{1,2}})(?:st|nd|rd|th)?,?\s+(?P<y3>\d{{4}})\b"
    rf"|(?P<d4>\d{{1,2}})(?:st|nd|rd|th)?\s+(?P<mn4>(?i:{MONTHS}))\.?,?\s+(?P<y4>\d{{4}})\b"
)
MONTH_NUMBERS = {
    m: i + 1
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
    )
}
# USPS Publication 28 street suffixes (the common ones, with their standard abbreviations).
SUFFIXES = (
    "Street|St|Avenue|Ave|Road|Rd|Boulevard|Blvd|Lane|Ln|Drive|Dr|Court|Ct|Way|Place|Pl|Terrace|Ter|Circle|Cir"
    "|Parkway|Pkwy|Highway|Hwy|Square|Sq|Trail|Trl|Loop|Row|Alley|Aly|Crescent|Close|Plaza|Plz|Path|Pike"
    "|Point|Pt|Ridge|Rdg|Run|Crossing|Xing|Station|Sta|Mews|Port|Ports|Glen|Glens|Gardens|Gdns|Heights|Hts"
    "|Hill|Hills|Hollow|Holw|Island|Isle|Junction|Jct|Key|Knoll|Knolls|Lake|Lakes|Landing|Lndg|Manor|Mnr"
    "|Meadow|Meadows|Mill|Mills|Mission|Motorway|Mount|Mountain|Orchard|Oval|Park|Pass|Passage|Pine|Pines"
    "|Plains|Prairie|Ramp|Ranch|Rapids|Rest|River|Route|Rte|Shoal|Shoals|Shore|Shores|Spring|Springs"
    "|Spur|Stream|Summit|Throughway|Trace|Track|Turnpike|Tpke|Tunnel|Union|Unions|Valley|Vly|Via|Viaduct"
    "|View|Views|Village|Vlg|Ville|Vista|Walk|Wall|Well|Wells|Bypass|Byp|Camp|Canyon|Cape|Causeway|Center"
    "|Ctr|Centers|Cliff|Cliffs|Club|Common|Commons|Corner|Corners|Course|Courts|Cove|Coves|Creek|Crest"
    "|Curve|Dale|Dam|Divide|Drives|Estate|Estates|Expressway|Expy|Extension|Ext|Falls|Ferry|Field|Fields"
    "|Flat|Flats|Ford|Fords|Forest|Forge|Forges|Fork|Forks|Fort|Freeway|Fwy|Garden|Gateway|Green|Greens"
    "|Grove|Groves|Harbor|Harbors|Haven|Inlet|Lock|Locks|Lodge|Light|Lights|Locks|Neck|Overpass|Radial"
    "|Roads|Routes|Skyway|Squares|Streets|Stravenue|Underpass|Ways|Bluff|Bluffs|Bottom|Branch|Bridge|Brook"
    "|Brooks|Burg|Burgs|Bayou|Beach|Bend"
)
ADDRESS_RE = re.compile(
    rf"\b\d{{1,6}}[A-Z]?\s+(?:[NSEW]\.?\s+)?(?:[A-Z][A-Za-z'-]+\s+){{1,4}}(?:{SUFFIXES})\b\.?"
    r"(?:,?\s+(?:Apt\.?|Suite|Ste\.?|Unit|#)\s*[\w-]+)?"
    r"(?:,?\s+[A-Z][A-Za-z .'-]{1,40},\s+[A-Z]{2}\s+\d{5}(?:-\d{4})?)?"
)
CITY_ZIP_RE = re.compile(
    r"\b[A-Z][A-Za-z .'-]{1,40},\s+(?:A[KLRZ]|C[AOT]|D[CE]|FL|GA|HI|I[ADLN]|K[SY]|LA|M[ADEINOST]|N[CDEHJMVY]|O[HKR]|PA|RI|S[CD]|T[NX]|UT|V[AT]|W[AIVY]|AA|AE|AP|AS|GU|MP|PR|VI|MH|FM|PW)\s+\d{5}(?:-\d{4})?\b"
)
# US military mail: ship, PSC or unit, then APO/FPO/DPO and AA/AE/AP with a ZIP.
PO_BOX_RE = re.compile(r"\b[Pp]\.?\s?[Oo]\.?\s+[Bb]ox\s+\d{1,6}\b")
MILITARY_RE = re.compile(
    r"\b(?:(?:USNS|USNV|USS|USCGC)\s+[A-Z][a-z]+|PSC\s+\d{4},\s+Box\s+\d{4}|Unit\s+\d{4}\s+Box\s+\d{4}),?\s+"
    r"(?:APO|FPO|DPO)\s+A[AEP]\s+\d{5}\b"
)
UK_POSTCODE_RE = re.compile(r"\b(?:[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]?) \d[ABD-HJLNP-UW-Z]{2}\b")
SSN_CONTEXT = re.compile(r"(?i:ssn|social\s+security)")
BSN_CONTEXT = re.compile(r"(?i:\bbsn\b|burgerservicenummer|sofinummer)")
