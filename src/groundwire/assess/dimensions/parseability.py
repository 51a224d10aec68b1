"""Parseability: files that fail (with the ingest error code), documents with no text after
cleaning (``empty``), near-empty ones (under ``assess.min_chars``) and garbled text.

Garbled (``garble_reasons``): mojibake sequences (UTF-8 read as Latin-1: ``Ã©``, ``â€™``),
Unicode replacement characters, a high share of non-letter characters, or OCR noise (many
one-letter "words" and letter/digit mixtures such as ``l1ke``).
Score: ``100 * (1 - (failed + empty + garbled/2 + near_empty/4) / documents)``.
"""

from __future__ import annotations

import re
from collections import Counter

from groundwire.assess.dimensions.base import Context
from groundwire.assess.report import Section, chart, finding, location
from groundwire.assess.source import AssessedDocument
from groundwire.assess.textutil import excerpt
from groundwire.text import LETTER

_MOJIBAKE = re.compile(
    r"Ã[\u0080-\u00bf]|â€[\u0080-\u00bf\u2018-\u201e\u2020-\u2122™œ]|Â[\u00a0-\u00bf]"
)
_OCR_TOKEN = re.compile(r"^(?=.*[^\W\d_])(?=.*\d)\w+$")
MIN_SAMPLE = 80
_SPACE = re.compile(r"\s", re.UNICODE)
MAX_NON_LETTER_SHARE = 0.5
MAX_OCR_NOISE_SHARE = 0.3


def garble_reasons(text: str) -> list[str]:
    """Why ``text`` looks garbled (empty list: it does not). Only texts of at least
    ``MIN_SAMPLE`` characters are judged on the ratio checks."""
    reasons = []
    if len(_MOJIBAKE.findall(text)) >= 3:
        reasons.append("mojibake")
    if text.count("\ufffd") >= 3:
        reasons.append("replacement_characters")
    sample = text[:5000]
    visible = len(sample) - len(_SPACE.findall(sample))
    if visible >= MIN_SAMPLE:
        letters = len(LETTER.findall(sample))
        if 1 - letters / visible > MAX_NON_LETTER_SHARE:
            reasons.append("non_letter_ratio")
        tokens = sample.split()
        if len(tokens) >= 20:
            noisy = sum(
                1
                for t in tokens
                if (len(t) == 1 and t.isalpha() and t.lower() not in "aio")
                or _OCR_TOKEN.match(t.strip(".,;:!?()")) is not None
            )
            if noisy / len(tokens) > MAX_OCR_NOISE_SHARE:
                reasons.append("ocr_noise")
    return reasons


class Parseability:
    name = "parseability"

    def __init__(self, min_chars: int) -> None:
        self.min_chars = min_chars
        self.codes: Counter[str] = Counter()
        self.failed: list[dict] = []
        self.empty: list[dict] = []
        self.near_empty: list[dict] = []
        self.garbled: list[dict] = []
        self.cap = 500  # findings kept per kind while streaming (counts stay exact)
        self.n_failed = self.n_empty = self.n_near = self.n_garbled = 0
        self.n_ocr = 0  # documents whose text came from OCR (metadata ``ocr: true``)

    def observe(self, doc: AssessedDocument, i: int) -> None:
        if doc.metadata.get("ocr") is True:
            self.n_ocr += 1
        if doc.failed:
            self.n_failed += 1
            self.codes[doc.error_code or "unknown"] += 1
            if len(self.failed) < self.cap:
                self.failed.append(
                    finding(
                        "critical",
                        doc.error_code or "parse.failed",
                        doc.error_message or f"{doc.uri}: failed ({doc.error_code})",
                        [location(doc.uri)],
                        {"code": doc.error_code},
                    )
                )
        elif doc.empty:
            self.n_empty += 1
            if len(self.empty) < self.cap:
                self.empty.append(
                    finding(
                        "warning",
                        "parseability.empty",
                        f"{doc.uri}: no text after cleaning",
                        [location(doc.uri)],
                        {"code": "parse.empty"},
                    )
                )
        else:
            if len(doc.text) < self.min_chars:
                self.n_near += 1
                if len(self.near_empty) < self.cap:
                    self.near_empty.append(
                        finding(
                            "info",
                            "parseability.near_empty",
                            f"{doc.uri}: only {len(doc.text)} characters of text",
                            [location(doc.uri, 0, len(doc.text), doc.text[:120])],
                            {"chars": len(doc.text)},
                        )
                    )
            reasons = garble_reasons(doc.text)
            if reasons:
                self.n_garbled += 1
                if len(self.garbled) < self.cap:
                    self.garbled.append(
                        finding(
                            "warning",
                            "parseability.garbled",
                            f"{doc.uri}: garbled text ({', '.join(reasons)})",
                            [
                                location(
                                    doc.uri,
                                    0,
                                    min(len(doc.text), 200),
                                    excerpt(doc.text, 0, min(len(doc.text), 120), 0),
                                )
                            ],
                            {"reasons": reasons},
                        )
                    )

    def finish(self, ctx: Context) -> Section:
        n = ctx.documents
        bad = self.n_failed + self.n_empty + self.n_garbled / 2 + self.n_near / 4
        score = 100 if n == 0 else round(max(0.0, 100 * (1 - bad / n)))
        advice = []
        for code, count in self.codes.most_common():
            advice.append(
                _ADVICE.get(code, f"Fix {count} file(s) failing with {code}.").format(n=count)
            )
        if self.n_empty:
            advice.append(
                f"{self.n_empty} document(s) have no text: scanned PDFs need OCR; "
                "remove empty files."
            )
        if self.n_garbled:
            advice.append(
                f"Re-export {self.n_garbled} garbled document(s) from the source "
                "(wrong encoding or poor OCR)."
            )
        ok = n - self.n_failed - self.n_empty
        return Section(
            score=score,
            summary=(
                f"{ok} of {n} documents yield text; {self.n_failed} failed, "
                f"{self.n_empty} empty, {self.n_garbled} garbled, {self.n_near} near-empty"
            ),
            advice=advice,
            findings=self.failed + self.empty + self.garbled + self.near_empty,
            charts=[
                chart(
                    "Failures by reason",
                    [c for c, _ in self.codes.most_common()],
                    [v for _, v in self.codes.most_common()],
                    "documents",
                )
            ],
            figures={
                "failed": self.n_failed,
                "empty": self.n_empty,
                "garbled": self.n_garbled,
                "near_empty": self.n_near,
                "ocr": self.n_ocr,
            },
            weight=1.5,
        )


_ADVICE = {
    "parse.pdf_invalid": "Repair or re-export {n} damaged PDF(s).",
    "parse.binary": "Remove {n} binary file(s) saved with a text extension.",
    "parse.docx_invalid": "Re-save {n} damaged DOCX file(s) from Word/LibreOffice.",
    "parse.encoding": "Re-save {n} file(s) as UTF-8.",
    "parse.record_invalid": "Fix {n} malformed record(s) (valid JSON objects with a text field; "
    "each finding names the line).",
    "parse.unsupported": "Convert {n} file(s) in unsupported formats.",
    "parse.ocr_unavailable": "Install Tesseract (apt-get install tesseract-ocr tesseract-ocr-eng) "
    "to read {n} scanned PDF(s)/image(s).",
    "parse.ocr_failed": "Check {n} scan(s) Tesseract failed on (or raise ingest.ocr.timeout_s).",
    "parse.image_invalid": "Replace {n} damaged image file(s).",
    "read.too_large": "Split {n} file(s) above ingest.max_file_mb.",
}
