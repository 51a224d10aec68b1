"""PDF prose reading and sentence splitting, measured (issue 20 item 8).

Builds a 60-page handbook PDF with reportlab (running header, "Page n of 60" footer,
paragraphs wrapped at 80 characters), extracts it with pypdf in plain and in layout mode,
runs the prose pass (``parsers.pdf.prose_paragraphs``) on each, and times the sentence
splitter (``ingest.sentences``) against the old regex split on 500 passages.

    .venv/bin/python benchmarks/pdf_prose.py
"""

from __future__ import annotations

import io
import random
import re
import sys
import textwrap
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from support.prose_pdf import SENTENCES  # noqa: E402

from groundwire.ingest.parsers.pdf import prose_paragraphs  # noqa: E402
from groundwire.ingest.sentences import _cached, sentence_spans  # noqa: E402

PAGES = 60
OLD_SPLIT = re.compile(r"(?<=[.!?。])[\"')\]]*\s+(?=[\"'(\[]?[A-Z0-9À-Ý])|\n+")


def handbook(rng: random.Random) -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for page in range(1, PAGES + 1):
        pdf.setFont("Helvetica", 9)
        pdf.drawString(60, 810, "Hillside Orchard Handbook - Internal")
        pdf.drawString(270, 30, f"Page {page} of {PAGES}")
        pdf.setFont("Helvetica", 11)
        y = 770
        while y > 120:
            for line in textwrap.wrap(" ".join(rng.choice(SENTENCES) for _ in range(3)), 80):
                pdf.drawString(60, y, line)
                y -= 14
            y -= 12
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def main() -> None:
    from pypdf import PdfReader

    rng = random.Random(7)
    reader = PdfReader(io.BytesIO(handbook(rng)))
    for mode in ("plain", "layout"):
        started = time.perf_counter()
        texts = [page.extract_text(extraction_mode=mode) for page in reader.pages]
        extract_ms = (time.perf_counter() - started) * 1000 / PAGES
        started = time.perf_counter()
        paragraphs = prose_paragraphs(texts)
        prose_ms = (time.perf_counter() - started) * 1000
        text = "\n\n".join(paragraphs)
        print(f"pypdf {mode:6s}: {extract_ms:.1f} ms/page; prose pass {prose_ms:.0f} ms; "
              f"{len(paragraphs)} paragraphs; header left: {'Hillside' in text}; page "
              f"numbers left: {bool(re.search(r'Page [0-9]+ of', text))}")
    passages = [" ".join(rng.choice(SENTENCES) for _ in range(8)) for _ in range(500)]
    size = sum(map(len, passages)) // len(passages)
    started = time.perf_counter()
    for passage in passages:
        list(OLD_SPLIT.finditer(passage))
    print(f"old regex split: {(time.perf_counter() - started) * 1000 / 500:.3f} ms "
          f"per {size}-char passage")
    _cached.cache_clear()
    started = time.perf_counter()
    for passage in passages:
        sentence_spans(passage)
    print(f"sentence_spans:  {(time.perf_counter() - started) * 1000 / 500:.3f} ms (uncached)")
    import pysbd

    segmenter = pysbd.Segmenter(language="en", clean=False)
    started = time.perf_counter()
    for passage in passages:
        segmenter.segment(passage)
    print(f"pysbd on all:    {(time.perf_counter() - started) * 1000 / 500:.3f} ms")


if __name__ == "__main__":
    main()
