"""A planted corpus where chunk size matters (versions tests): each document states two
facts far apart and each fact also appears in one other document; a question names both facts,
so only a chunk holding both (a large chunk) ranks the right document first.
``planted(root)`` writes ``root/docs`` (Markdown) and ``root/evals`` (queries + qrels by uri, no
corpus: evaluated against the index the docs are ingested into)."""

from __future__ import annotations

import random
from pathlib import Path

N_DOCS = 24
FILLER = ("Maintenance staff log every inspection in the shared register and review the "
          "register at the weekly planning meeting before any work order is closed.")


def _word(rng: random.Random) -> str:
    return "".join(rng.choice("bcdfghklmnprstvz") + rng.choice("aeiou") for _ in range(3))


def planted(root: Path) -> tuple[Path, Path]:
    rng = random.Random(7)
    a = [f"{_word(rng)} {_word(rng)}" for _ in range(N_DOCS)]
    b = [f"{_word(rng)} {_word(rng)}" for _ in range(N_DOCS)]
    docs = root / "docs"
    docs.mkdir()
    for i in range(N_DOCS):
        text = (f"# Equipment sheet {i}\n\nThis unit uses {a[i]} seals. {FILLER}\n\n"
                f"A spare kit lists {a[(i + 1) % N_DOCS]} seals. {FILLER}\n\n"
                f"The backup line is rated {b[(i + 2) % N_DOCS]} pressure. {FILLER}\n\n"
                f"This unit is rated {b[i]} pressure.\n")
        (docs / f"sheet{i:02d}.md").write_text(text)
    evals = root / "evals"
    evals.mkdir()
    (evals / "queries.jsonl").write_text("".join(
        f'{{"id": "q{i}", "text": "unit with {a[i]} seals rated {b[i]} pressure"}}\n'
        for i in range(N_DOCS)))
    (evals / "qrels.tsv").write_text("query-id\tcorpus-id\tscore\n" + "".join(
        f"q{i}\tsheet{i:02d}.md\t1\n" for i in range(N_DOCS)))
    return docs, evals
