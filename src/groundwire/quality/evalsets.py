"""``groundwire evalset generate``: an eval set written from an index's own data.

The folder is BEIR-like without a corpus (the index *is* the corpus; see
``quality/datasets.py``)::

    queries.jsonl       {"id", "text", "metadata": {"kind", "uri"}}
    qrels.tsv           query-id, corpus-id (``evaluation.doc_id_of(uri)``), score 1
    unanswerable.jsonl  {"id", "text"}: questions the corpus cannot answer (abstain)
    evalset.json        how it was made: index, generation, counts by kind, seed

Questions come from three places:

* ``generate_pseudo_questions`` (titles, headings, key sentences; no LLM), or, when an LLM is
  configured and ``use_llm``, the LLM writes the question for the same sampled chunks (kind
  ``llm``; a chunk whose call fails keeps its pseudo-question);
* answer records with positive feedback (``feedback`` kind): the question, with the documents
  the answer cited (or the feedback's expected passage) as the relevant ones;
* unanswerable questions: templates filled with nouns absent from the corpus vocabulary and
  invented names, so no passage can support an answer.

Deterministic for a given index content, seed and (without LLM) settings.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from groundwire.engine import IndexEngine
from groundwire.quality.evaluation import doc_id_of
from groundwire.quality.pseudo_questions import PseudoQuestion, generate_pseudo_questions
from groundwire.stores.base import StoredChunk

_WORD = re.compile(r"[a-z]+")
# Common nouns across domains; those absent from the corpus make unanswerable questions.
NOUNS = (
    "volcano", "saxophone", "glacier", "cricket", "submarine", "lighthouse", "tornado",
    "orchestra", "vineyard", "astronaut", "pyramid", "canoe", "cathedral", "dinosaur",
    "meteorite", "harpsichord", "archipelago", "falconry", "telescope", "marathon",
    "carousel", "penguin", "monsoon", "trombone", "igloo", "rainforest", "chandelier",
    "gondola", "avalanche", "origami", "sumo", "tapestry", "walrus", "zeppelin", "quarry",
    "bagpipe", "tundra", "lacrosse", "kaleidoscope", "mosaic", "opera", "hurricane",
    "jellyfish", "catapult", "parachute",
)
TEMPLATES = (
    "What is the {noun} policy of {name}?",
    "Who invented the {name} {noun}?",
    "How many {noun}s does {name} have?",
    "When was the {noun} of {name} built?",
    "Where can I find the {name} {noun} schedule?",
    "Why did {name} ban the {noun}?",
)
_SYLLABLES = ("zor", "blax", "quin", "tes", "fram", "vex", "lil", "drum", "kor", "wib",
              "thra", "nox", "pel", "grum", "yab", "ulf", "snid", "oth")


def unanswerable_questions(vocabulary: set[str], n: int, seed: int = 0) -> list[str]:
    """``n`` distinct questions using only nouns and invented names absent from
    ``vocabulary`` (lower-case words of the corpus)."""
    rng = random.Random(seed)
    nouns = [w for w in NOUNS if w not in vocabulary and f"{w}s" not in vocabulary]
    if not nouns or n <= 0:
        return []
    out: list[str] = []
    seen: set[str] = set()
    for _ in range(n * 20):
        if len(out) >= n:
            break
        name = ""
        while not name or name.lower() in vocabulary:
            name = "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 3))).title()
        question = rng.choice(TEMPLATES).format(noun=rng.choice(nouns), name=name)
        if question not in seen:
            seen.add(question)
            out.append(question)
    return out


def corpus_vocabulary(chunks: Sequence[StoredChunk]) -> set[str]:
    vocab: set[str] = set()
    for chunk in chunks:
        vocab.update(_WORD.findall(f"{chunk.title} {chunk.text}".lower()))
    return vocab


async def llm_questions(engine: IndexEngine, pseudo: Sequence[PseudoQuestion],
                        chunks: dict[int, StoredChunk]) -> list[PseudoQuestion]:
    """Ask the configured LLM to write the question of each pseudo-question's chunk; keep the
    pseudo-question where the call fails or returns nothing usable."""
    from groundwire.llm.chain import ChainOutcome

    llm = engine.answers.llm
    if llm is None:
        return list(pseudo)
    out = []
    for q in pseudo:
        passage = chunks[q.chunk_id].text[:2000]
        messages = [
            {"role": "system", "content": "Write one question a user could ask that the "
             "passage answers. Reply with the question only, without quoting the passage."},
            {"role": "user", "content": passage},
        ]
        text = ""
        async for item in llm.chain.run(messages, stream=False, max_tokens=64):
            if isinstance(item, ChainOutcome) and item.completion is not None:
                text = item.completion.text.strip().strip('"').splitlines()[0] \
                    if item.completion.text.strip() else ""
        if 3 <= len(text) <= 300:
            out.append(PseudoQuestion(text, q.chunk_id, q.document_id, q.uri, "llm"))
        else:
            out.append(q)
    return out


async def generate_evalset(
    engine: IndexEngine, index: str, output: Path, *, questions: int = 100,
    unanswerable: int = 20, seed: int = 0, use_llm: bool = True, feedback: bool = True,
    physical: str | None = None,
) -> dict[str, Any]:
    """Write the eval set of ``index`` to ``output`` (created; existing files replaced) and
    return its description (``evalset.json``). ``physical``: the physical index holding the
    chunks when ``index`` is an alias (versions)."""
    source = physical or index
    generation, chunks = await engine.store.keyword_corpus(source)
    pseudo = generate_pseudo_questions(chunks, questions, seed)
    if use_llm and engine.answers.llm is not None:
        pseudo = await llm_questions(engine, pseudo, {c.chunk_id: c for c in chunks})
    items: list[tuple[str, str, dict[str, Any], set[str]]] = []  # id, text, metadata, docs
    seen: set[str] = set()
    for i, q in enumerate(pseudo, 1):
        if q.query.lower() not in seen:
            seen.add(q.query.lower())
            items.append((f"g{i:04d}", q.query, {"kind": q.kind, "uri": q.uri},
                          {doc_id_of(q.uri)}))
    if feedback:
        for j, (question, docs) in enumerate(await positive_feedback(engine, index), 1):
            if question.lower() not in seen and docs:
                seen.add(question.lower())
                items.append((f"f{j:04d}", question, {"kind": "feedback"}, docs))
    negatives = unanswerable_questions(corpus_vocabulary(chunks), unanswerable, seed)

    output.mkdir(parents=True, exist_ok=True)
    with (output / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for qid, text, meta, _ in items:
            fh.write(json.dumps({"id": qid, "text": text, "metadata": meta}) + "\n")
    with (output / "qrels.tsv").open("w", encoding="utf-8") as fh:
        fh.write("query-id\tcorpus-id\tscore\n")
        for qid, _, _, docs in items:
            for doc in sorted(docs):
                fh.write(f"{qid}\t{doc}\t1\n")
    with (output / "unanswerable.jsonl").open("w", encoding="utf-8") as fh:
        for k, text in enumerate(negatives, 1):
            fh.write(json.dumps({"id": f"u{k:04d}", "text": text}) + "\n")
    stale_corpus = output / "corpus.jsonl"
    if stale_corpus.exists():
        stale_corpus.unlink()  # this set is evaluated against the index, not a copy
    info = {
        "index": index, "physical_index": source, "generation": generation,
        "created_at": datetime.now(UTC).isoformat(), "seed": seed,
        "questions": len(items), "unanswerable": len(negatives),
        "by_kind": dict(Counter(meta["kind"] for _, _, meta, _ in items)),
    }
    (output / "evalset.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    return info


async def positive_feedback(engine: IndexEngine, index: str) -> list[tuple[str, set[str]]]:
    """(question, relevant document ids) of answered ``ask`` records of ``index`` with helpful
    feedback and none unhelpful; relevant: the feedback's expected passage (a uri or chunk id)
    when given, else the documents the answer cited."""
    rows = await engine.store.positive_feedback_records(index)
    expected_chunks = [int(e) for _, _, e in rows if e and e.isdigit()]
    by_id = await engine.store.chunks_by_id(expected_chunks) if expected_chunks else {}
    out = []
    for question, cited, expected in rows:
        if expected and expected.isdigit():
            chunk = by_id.get(int(expected))
            docs = {doc_id_of(chunk.uri)} if chunk else set()
        elif expected:
            docs = {doc_id_of(expected)}
        else:
            docs = {doc_id_of(uri) for uri in cited}
        out.append((question, docs))
    return out
