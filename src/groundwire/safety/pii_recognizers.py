"""The pattern side of ``safety.pii``: the finding type, Presidio's pattern recognizers with
their cheap pre-checks, the plausibility checks that drop look-alikes (ranges, dates,
version numbers, ids inside tokens), context words and masking. ``PiiDetector`` (in
``safety.pii``) runs them; see that module for the contract and the scores."""

from __future__ import annotations

import functools
import ipaddress
import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

_CONTEXT_WINDOW = 48
_CONTEXT_BOOST = 0.35
_PHONE_BASE = 0.4
_PHONE_FORMATTED_BOOST = 0.15
_NHS_BASE = 0.45
_NINO_COMPACT_BASE = 0.45

# Context words per kind (lower case, whole words). Deliberately not "number": "order number"
# must not turn an order id into a phone number.
_CONTEXT: dict[str, tuple[str, ...]] = {
    "email": ("email", "e-mail", "mail"),
    # not "cell": "cell lines 0332991" in a biology abstract is no phone number
    "phone": ("phone", "telephone", "tel", "cellphone", "mobile", "call", "fax", "sms",
              "whatsapp", "telefon", "telefono", "teléfono", "téléphone", "tél", "handy",
              "mobil", "contact", "dial", "hotline"),
    "payment_card": ("card", "credit", "debit", "visa", "mastercard", "amex", "payment"),
    "iban": ("iban", "bank", "account", "transfer", "sepa"),
    "national_id": (
        "ssn", "social security", "national insurance", "nino", "nhs", "nif", "nie", "dni",
        "codice fiscale", "fiscal code", "tax id", "passport", "id number",
    ),
    "ip_address": ("ip", "ipv4", "ipv6", "address", "host", "server", "client"),
}
# Words right before a dotted quad that make it a version or section number, not an address.
_IP_NEGATIVE = re.compile(
    r"(?:\b(?:version|ver\.?|release|build|firmware|section|chapter|clause|v|ec)|§)\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class PiiFinding:
    """One match: ``text[start:end]`` is the value; ``masked`` is a safe sample of its shape."""

    kind: str
    start: int
    end: int
    score: float
    masked: str



# --------------------------------------------------------------------------- masking

def _mask_digits(value: str, keep_last: int) -> str:
    """Digits and letters become ``*`` except the last ``keep_last`` alphanumerics."""
    alnum_positions = [i for i, ch in enumerate(value) if ch.isalnum()]
    keep = set(alnum_positions[-keep_last:]) if keep_last else set()
    return "".join(ch if (i in keep or not ch.isalnum()) else "*" for i, ch in enumerate(value))


def _mask_email(value: str) -> str:
    local, _, domain = value.rpartition("@")
    labels = domain.split(".")
    tld = labels[-1] if len(labels) > 1 else ""
    head = domain[:1] + "***"
    return f"{local[:1]}***@{head}" + (f".{tld}" if tld else "")


def _mask(kind: str, value: str) -> str:
    if kind == "email":
        return _mask_email(value)
    if kind == "payment_card":
        digits = [c for c in value if c.isdigit()]
        return "**** **** **** " + "".join(digits[-4:])
    if kind == "iban":
        compact = re.sub(r"[\s-]", "", value)
        masked = compact[:2] + _mask_digits(compact[2:], 2)
        return " ".join(masked[i:i + 4] for i in range(0, len(masked), 4))
    if kind == "phone":
        return _mask_digits(value, 2)
    if kind == "ip_address":
        return re.sub(r"[0-9A-Fa-f]", "*", value)
    return _mask_digits(value, 0)  # national_id and anything else: shape only


# --------------------------------------------------------------------------- recognizers

@dataclass(frozen=True, slots=True)
class _Recognizer:
    kind: str
    entity: str
    impl: Any
    precheck: Callable[[str], object]  # truthy when the text may hold the entity


# Cheap pre-checks (stdlib ``re``): a recognizer runs only where its shape occurs at all.
# They are looser than the recognizers' own patterns, never stricter.
_PRECHECK_FLAGS = re.IGNORECASE
_HAS_CARD = re.compile(r"\d{4}[- ]?\d{3,4}[- ]?\d{3,4}").search
_HAS_DIGITS7 = re.compile(r"\d(?:[\s().\-/]?\d){6}").search
# Written as a phone number: international prefix, parenthesised area code, or digit groups
# joined by "-"/"." ("415-555-2671"). Space-grouped digits alone ("88231 88231", "2019 2020
# 2021") are as often table columns, so they need a context word like bare digits do.
_PHONE_SEPARATORS = re.compile(r"(?<=\d)\D+(?=\d)")


def _phone_formatted(value: str) -> bool:
    """``+44 ...``, ``(415) ...``, or one consistent "-"/"." separator ("415.555.2671");
    mixed separators ("88231 12 3.2.1") are number salad."""
    value = value.strip()
    if value.startswith("+") or "(" in value:
        return True
    return set(_PHONE_SEPARATORS.findall(value)) in ({"-"}, {"."})
_MAX_PHONE_DIGITS = 15  # E.164
# Digits joined by at most one separator (or a parenthesised area code), so "0958. 2019" at a
# sentence boundary does not glue two numbers into one window.
_PHONE_CANDIDATE = re.compile(r"(?:\+|\(|\b)\d(?:(?:[ \t\-./]|\)[ \t]?|[ \t]?\()?\d){6,16}\)?")
_HAS_IP = re.compile(r"\d{1,3}\.\d{1,3}\.\d{1,3}\.\d|[0-9A-Fa-f]:[0-9A-Fa-f]*:|::").search
_HAS_IBAN = re.compile(r"[A-Z]{2}\d{2}[ -]?[A-Z0-9]{4}", _PRECHECK_FLAGS).search
_HAS_SSN = re.compile(r"\d{3}[- .]\d{2}[- .]\d{4}|\d{3}-\d{6}|\d{5}-\d{4}|\b\d{9}\b").search
_HAS_NINO = re.compile(r"\b[A-Z]{2} ?\d{2} ?\d{2} ?\d{2} ?[A-D]\b", _PRECHECK_FLAGS).search
_HAS_NHS = re.compile(r"\b\d{3}[- ]?\d{3}[- ]?\d{4}\b").search
_HAS_NIF = re.compile(r"\d{7}-?[A-Z]\b", _PRECHECK_FLAGS).search
_HAS_FISCAL = re.compile(r"\b[A-Z]{6}[0-9LMNPQRSTUV]{2}[A-Z]", _PRECHECK_FLAGS).search


_HEAVY = ("torch", "transformers")
_OPTIONAL_PROBES = ("thinc", "spacy", "presidio_analyzer")


class _NoTorchForPresidio:
    """A meta-path finder that fails ``import torch`` / ``import transformers`` (and their
    submodules) only when a thinc, spaCy or Presidio module is importing them: their optional
    GPU / NER probes, which catch the ImportError. Other importers are never affected."""

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.split(".")[0] in _HEAVY:
            import sys

            frame: Any = sys._getframe(1)
            while frame is not None:
                module = str(frame.f_globals.get("__name__", ""))
                if module.split(".")[0] in _OPTIONAL_PROBES:
                    raise ModuleNotFoundError(f"{name} is not used by the PII recognizers",
                                              name=name)
                frame = frame.f_back
        return None


@functools.cache
def _recognizers() -> tuple[_Recognizer, ...]:
    """Built once per process (the Presidio import is the slow part). These pattern
    recognizers need no NLP model and no torch, and a torch-free server must not load torch
    (issue 23, ~300 MB): Presidio's import detects a GPU by importing torch unless
    ``PRESIDIO_DEVICE`` is set, and imports spaCy, whose thinc imports torch when installed.
    Presidio also probes for transformers. ``_NoTorchForPresidio`` refuses only those probes
    (each then runs without it); any other thread importing torch meanwhile is unaffected."""
    os.environ.setdefault("PRESIDIO_DEVICE", "cpu")
    import sys

    guard = _NoTorchForPresidio()
    sys.meta_path.insert(0, guard)
    try:
        import presidio_analyzer.predefined_recognizers  # noqa: F401
    finally:
        sys.meta_path.remove(guard)
    import tldextract
    from presidio_analyzer.predefined_recognizers import (
        CreditCardRecognizer,
        EmailRecognizer,
        EsNieRecognizer,
        EsNifRecognizer,
        IbanRecognizer,
        IpRecognizer,
        ItFiscalCodeRecognizer,
        NhsRecognizer,
        PhoneRecognizer,
        UkNinoRecognizer,
        UsSsnRecognizer,
    )

    # The bundled public-suffix snapshot only: never a download, never a cache write.
    offline_tld = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)

    class OfflineEmailRecognizer(EmailRecognizer):
        def validate_result(self, pattern_text: str) -> bool:
            domain = pattern_text.rpartition("@")[2]
            return bool(offline_tld(domain).suffix)

    out = (
        _Recognizer("email", "EMAIL_ADDRESS", OfflineEmailRecognizer(), lambda t: "@" in t),
        _Recognizer("payment_card", "CREDIT_CARD", CreditCardRecognizer(), _HAS_CARD),
        _Recognizer("iban", "IBAN_CODE", IbanRecognizer(), _HAS_IBAN),
        _Recognizer("ip_address", "IP_ADDRESS", IpRecognizer(), _HAS_IP),
        # Presidio's default regions less "CA": matching with "US" already finds every
        # North American number (validity is decided by the number, not the region).
        _Recognizer("phone", "PHONE_NUMBER",
                    PhoneRecognizer(supported_regions=("US", "GB", "DE", "FR", "IL", "IN", "BR")),
                    _HAS_DIGITS7),
        # An international "+..." number parses the same from any region: one region will do.
        _Recognizer("phone", "PHONE_NUMBER", PhoneRecognizer(supported_regions=("US",)),
                    _HAS_DIGITS7),
        _Recognizer("national_id", "US_SSN", UsSsnRecognizer(), _HAS_SSN),
        _Recognizer("national_id", "UK_NINO", UkNinoRecognizer(), _HAS_NINO),
        _Recognizer("national_id", "UK_NHS", NhsRecognizer(), _HAS_NHS),
        _Recognizer("national_id", "ES_NIF", EsNifRecognizer(), _HAS_NIF),
        _Recognizer("national_id", "ES_NIE", EsNieRecognizer(), _HAS_NIF),
        _Recognizer("national_id", "IT_FISCAL_CODE", ItFiscalCodeRecognizer(), _HAS_FISCAL),
    )
    for r in out:  # compile every pattern now rather than racing on first use in threads
        if r.kind != "phone":
            r.impl.analyze("warm up 0", [r.entity])
    return out


def _context_hit(kind: str, text: str, start: int) -> bool:
    words = _CONTEXT.get(kind)
    if not words:
        return False
    before = text[max(0, start - _CONTEXT_WINDOW):start].lower()
    return any(re.search(rf"\b{re.escape(w)}\b", before) for w in words)


def _phone_results(
    national: Any, international: Any, text: str, *, need_context: bool
) -> list[tuple[int, int, float]]:
    """Run the phone matcher on digit-run windows only (it is pure Python and loops over
    regions); a window starting with ``+`` needs a single region. Windows are skipped when
    they cannot become a finding: more digits than E.164 allows (a row of numbers), or bare
    unformatted digits with no phone context word when ``need_context`` (their score would
    stay below ``min_score``)."""
    out: list[tuple[int, int, float]] = []
    for cand in _PHONE_CANDIDATE.finditer(text):
        value = cand.group()
        if sum(c.isdigit() for c in value) > _MAX_PHONE_DIGITS:
            continue
        if need_context and not _phone_formatted(value) and not _context_hit(
            "phone", text, cand.start()
        ):
            continue
        lo = max(0, cand.start() - 1)
        window = text[lo:cand.end() + 1]
        impl = international if value.startswith("+") else national
        for r in impl.analyze(window, ["PHONE_NUMBER"]):
            out.append((lo + r.start, lo + r.end, _PHONE_BASE))
    return out


_RANGE = re.compile(r"(\d+(?:\.\d+)?)\s?[-–]\s?(\d+(?:\.\d+)?)")
_DECIMAL = re.compile(r"\d*\.\d+|\d+\.\d*")
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DE_AREA_SLASH = re.compile(r"\(?0\d{1,5}\)?\s?/")


def _not_a_phone(value: str) -> bool:
    """Number shapes the phone matcher accepts that prose uses for something else: ranges
    (``3000-5000``, ``[1644-2332``, ``0.750-0.757``), decimals (``0.408730``), fractions
    (``11 256/20 849``; a German ``030/1234567`` keeps its slash), ISO dates."""
    core = value.strip(" []{}()")
    if _DECIMAL.fullmatch(core) or _ISO_DATE.search(core):
        return True
    if "/" in core and not _DE_AREA_SLASH.match(value.strip()):
        return True
    m = _RANGE.fullmatch(core)
    if not m:
        return False
    a, b = m.groups()
    if "." in a or "." in b:
        return True
    return len(a) == len(b) and int(a) < int(b)


def _inside_token(text: str, start: int, end: int) -> bool:
    """True when the span continues a word: ``X-123``/``X/123`` before it or after it."""
    before = text[max(0, start - 2):start]
    after = text[end:end + 2]
    joined = re.compile(r"[A-Za-z0-9_]|[-/_.#][A-Za-z0-9]")
    return bool(
        (before and (joined.fullmatch(before[-1:]) or joined.fullmatch(before[::-1])))
        or (after and (joined.fullmatch(after[:1]) or joined.fullmatch(after)))
    )


def _ip_plausible(text: str, start: int, end: int) -> bool:
    value = text[start:end]
    if text[max(0, start - 2):start].endswith(".") or re.match(r"\.\d", text[end:end + 2]):
        return False  # part of a longer dotted number (OID, section 1.2.3.4.5)
    if _IP_NEGATIVE.search(text[max(0, start - 12):start]):
        return False
    if ":" in value and "." not in value:
        groups = [g for g in re.split(r"[:/%]", value) if g]
        if len(groups) < 3:
            return False  # "ab::cd" is far more often code than an address
    try:
        address = ipaddress.ip_interface(value).ip
    except ValueError:
        return False
    # 127.0.0.1, 0.0.0.0, ::1, 169.254.x.x, multicast: configuration, not anyone's address.
    return not (address.is_loopback or address.is_unspecified or address.is_link_local
                or address.is_multicast)
