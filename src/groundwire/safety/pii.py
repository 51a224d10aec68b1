"""Personal data and secrets in text.

Contract::

    PII_KINDS = ("email", "phone", "payment_card", "iban", "national_id", "ip_address", "secret")
    PiiDetector(kinds=None, *, min_score=0.5).find(text) -> list[PiiFinding]  # sorted, disjoint
    PiiDetector(...).redact(text) -> str     # each finding replaced by "<KIND>", e.g. "<EMAIL>"

Detection uses Presidio's pattern-based predefined recognizers (no NLP engine, no spaCy model):
``EmailRecognizer`` (domain checked against the public-suffix snapshot bundled with
tldextract, never fetched), ``CreditCardRecognizer`` (Luhn), ``IbanRecognizer`` (mod-97),
``IpRecognizer``, ``PhoneRecognizer`` (python-phonenumbers) and the national-id recognizers
``UsSsnRecognizer``, ``UkNinoRecognizer``, ``NhsRecognizer`` (checksum), ``EsNifRecognizer``,
``EsNieRecognizer`` and ``ItFiscalCodeRecognizer`` (checksum). Secrets (cloud/API tokens, PEM
private keys, ``password=``/``api_key=`` assignments with high-entropy values) are matched by
the expressions in ``safety.pii_secrets``.

Scores: a checksum- or domain-validated match scores 1.0; otherwise the recognizer's pattern
score, raised by 0.35 when one of the kind's context words ("phone", "ssn", "iban", ...) occurs
in the 48 characters before the match (Presidio's own context enhancer needs an NLP engine).
Phone numbers start at 0.4 and gain 0.15 when written as a phone number (leading ``+``,
parentheses, or digit groups joined by ``-``/``.``), so a bare ten-digit order number or
space-grouped digits ("2019 2020 2021") are below the default ``min_score`` unless a context
word ("phone", "tel", "call", ...) precedes them, while ``(415) 555-2671`` is above it.
Overlapping matches keep the higher score, then the longer span (secrets win over any
overlapping match).

``masked`` keeps only the shape (separators, a prefix naming the token type, at most the last
four digits of a card and the last two characters of other numbers), never the value.

Cost: the Presidio import (it pulls in spaCy's modules, not a model) takes a few seconds the
first time a detector is built; the recognizers are then cached for the process, and
``find`` runs each recognizer only when a cheap pre-check says it could match.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from groundwire.errors import ConfigurationError
from groundwire.safety.pii_recognizers import (
    _CONTEXT_BOOST,
    _NHS_BASE,
    _NINO_COMPACT_BASE,
    _PHONE_BASE,
    _PHONE_FORMATTED_BOOST,
    PiiFinding,
    _context_hit,
    _inside_token,
    _ip_plausible,
    _mask,
    _not_a_phone,
    _phone_formatted,
    _phone_results,
    _Recognizer,
    _recognizers,
)
from groundwire.safety.pii_secrets import _find_secrets

__all__ = ["PII_KINDS", "PiiDetector", "PiiFinding"]

PII_KINDS = ("email", "phone", "payment_card", "iban", "national_id", "ip_address", "secret")

_PRESIDIO_KIND = {
    "EMAIL_ADDRESS": "email",
    "PHONE_NUMBER": "phone",
    "CREDIT_CARD": "payment_card",
    "IBAN_CODE": "iban",
    "IP_ADDRESS": "ip_address",
    "US_SSN": "national_id",
    "UK_NINO": "national_id",
    "UK_NHS": "national_id",
    "ES_NIF": "national_id",
    "ES_NIE": "national_id",
    "IT_FISCAL_CODE": "national_id",
}

# Overlap tie-break after score and length: the more specific kind wins.
_PRIORITY = {k: i for i, k in enumerate(
    ("secret", "payment_card", "iban", "national_id", "email", "ip_address", "phone")
)}



class PiiDetector:
    """Finds personal data and secrets; construct once and reuse (thread-safe, stateless).

    ``kinds`` restricts detection to a subset of :data:`PII_KINDS` (unknown kinds raise
    :class:`ConfigurationError`); findings scoring below ``min_score`` are dropped.
    """

    def __init__(self, kinds: Iterable[str] | None = None, *, min_score: float = 0.5) -> None:
        selected = tuple(PII_KINDS if kinds is None else kinds)
        unknown = sorted(set(selected) - set(PII_KINDS))
        if unknown:
            raise ConfigurationError(
                f"unknown PII kind(s) {unknown}; known: {list(PII_KINDS)}", code="config.invalid"
            )
        if not 0.0 <= min_score <= 1.0:
            raise ConfigurationError(f"min_score must be within 0..1, got {min_score}")
        self.kinds = frozenset(selected)
        self.min_score = min_score

    def find(self, text: str) -> list[PiiFinding]:
        """Findings in ``text``: non-overlapping, sorted by start, each ``score >= min_score``."""
        if not text:
            return []
        candidates: list[PiiFinding] = []
        if "secret" in self.kinds:
            candidates.extend(_find_secrets(text))
        needs_presidio = self.kinds - {"secret"}
        if needs_presidio:
            recognizers = _recognizers()
            phones = [r.impl for r in recognizers if r.kind == "phone"]
            for rec in recognizers:
                if rec.kind in needs_presidio and rec.precheck(text):
                    if rec.kind == "phone" and rec.impl is not phones[0]:
                        continue  # the international matcher runs inside the first one
                    candidates.extend(self._run(rec, text, phones))
        return _resolve(c for c in candidates if c.score >= self.min_score)

    def redact(self, text: str) -> str:
        """``text`` with each finding replaced by ``<KIND>`` (e.g. ``<EMAIL>``, ``<SECRET>``)."""
        parts: list[str] = []
        pos = 0
        for f in self.find(text):
            parts.append(text[pos:f.start])
            parts.append(f"<{f.kind.upper()}>")
            pos = f.end
        parts.append(text[pos:])
        return "".join(parts)

    def _run(self, rec: _Recognizer, text: str, phones: list[Any]) -> list[PiiFinding]:
        if rec.kind == "phone":
            spans = _phone_results(
                phones[0], phones[1], text,
                need_context=self.min_score > _PHONE_BASE,
            )
        else:
            spans = [(r.start, r.end, float(r.score)) for r in rec.impl.analyze(text, [rec.entity])]
        if rec.entity == "UK_NHS":
            # Ten digits pass the mod-11 check one time in eleven: the checksum alone is not
            # evidence, so an NHS number needs a context word ("NHS") to reach the threshold.
            spans = [(s, e, _NHS_BASE) for s, e, _ in spans]
        out: list[PiiFinding] = []
        for start, end, base in spans:
            value = text[start:end]
            if rec.kind == "ip_address" and not _ip_plausible(text, start, end):
                continue
            if rec.kind == "phone" and (_inside_token(text, start, end) or _not_a_phone(value)):
                continue  # "INV-2024-000123", "SKU/20240115"; "3000-5000 IU", "0.750-0.757"
            if rec.entity == "UK_NINO" and not re.search(r"\s", value):
                base = _NINO_COMPACT_BASE  # "SR141716A" is as often a compound code
            score = base
            if rec.kind == "phone" and _phone_formatted(value):
                score += _PHONE_FORMATTED_BOOST
            if score < 1.0 and _context_hit(rec.kind, text, start):
                score += _CONTEXT_BOOST
            out.append(PiiFinding(rec.kind, start, end, round(min(score, 1.0), 3),
                                  _mask(rec.kind, value)))
        return out


def _resolve(candidates: Iterable[PiiFinding]) -> list[PiiFinding]:
    """Keep the best of overlapping findings: a secret first (a token inside a URL's user part
    must not hide behind an e-mail match), then higher score, longer span, more specific kind."""
    ranked = sorted(
        candidates,
        key=lambda f: (
            f.kind != "secret", -f.score, -(f.end - f.start), _PRIORITY[f.kind], f.start
        ),
    )
    taken: list[PiiFinding] = []
    for f in ranked:
        if all(f.end <= t.start or f.start >= t.end for t in taken):
            taken.append(f)
    return sorted(taken, key=lambda f: f.start)
