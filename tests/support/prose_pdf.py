"""A real multi-page PDF (reportlab) laid out like a printed handbook: paragraphs wrapped over
several lines, words hyphenated across line breaks, a paragraph that runs over a page break,
a running header on every page and a "Page n of m" footer. ``SENTENCES`` is what a reader
sees: each sentence whole, no furniture."""

from __future__ import annotations

import io

HEADER = "Hillside Orchard Handbook - Internal"
TITLE = "Orchard Handbook"

# Each page is a list of paragraphs; each paragraph is its printed lines. A line ending in
# "-" breaks a word; the last paragraph of page 2 goes on at the top of page 3.
PAGES: list[list[list[str]]] = [
    [
        ["The northern orchard was planted in 1962 with forty rows of",
         "Bramley apple trees. Each row was spaced six metres apart so",
         "that the tractor could pass between them during the harvest."],
        ["Irrigation comes from a spring-fed reservoir above the or-",
         "chard. During dry summers the reservoir level drops by nearly",
         "two metres, and the pumps are then run only at night to",
         "limit evaporation."],
    ],
    [
        ["Pruning happens every winter between December and Febru-",
         "ary. The pruning crew removes crossing branches first, then",
         "thins the canopy so that sunlight reaches the inner fruit."],
        ["Codling moth traps are checked every Monday from May until",
         "September. When more than five moths are caught in one week",
         "the orchard manager orders a targeted"],
    ],
    [
        ["spray of the affected rows. Windfall apples are collected",
         "within two days of a storm and pressed for cider in the old",
         "barn."],
        ["The barn press can handle about four hundred kilograms of",
         "fruit in a single afternoon."],
    ],
]

SENTENCES = [
    "The northern orchard was planted in 1962 with forty rows of Bramley apple trees.",
    "Each row was spaced six metres apart so that the tractor could pass between them "
    "during the harvest.",
    "Irrigation comes from a spring-fed reservoir above the orchard.",
    "During dry summers the reservoir level drops by nearly two metres, and the pumps are "
    "then run only at night to limit evaporation.",
    "Pruning happens every winter between December and February.",
    "The pruning crew removes crossing branches first, then thins the canopy so that "
    "sunlight reaches the inner fruit.",
    "Codling moth traps are checked every Monday from May until September.",
    "When more than five moths are caught in one week the orchard manager orders a targeted "
    "spray of the affected rows.",
    "Windfall apples are collected within two days of a storm and pressed for cider in the "
    "old barn.",
    "The barn press can handle about four hundred kilograms of fruit in a single afternoon.",
]


def handbook_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle(TITLE)
    for number, page in enumerate(PAGES, 1):
        pdf.setFont("Helvetica", 9)
        pdf.drawString(60, 810, HEADER)
        pdf.drawString(270, 30, f"Page {number} of {len(PAGES)}")
        pdf.setFont("Helvetica", 11)
        y = 770
        for paragraph in page:
            for line in paragraph:
                pdf.drawString(60, y, line)
                y -= 14
            y -= 12
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
