"""Label-free self-tuning: learn an index's fusion settings from pseudo-questions on its corpus.

``autotune(engine, index)``:

1. generates pseudo-questions from the index's chunks (``quality/pseudo_questions.py``; their
   answer is the document they were written from) and splits them, seeded, into a *tune* half
   and a *held-out* half;
2. fetches both retrievers' candidate lists once per question *as if the question's source
   sentence were not in the corpus* (``collect_lists_cloze``: without that, questions copied
   from passages favour BM25 and the tuning lands far below equal fusion on real questions)
   — except for ``KEEP_SOURCE`` (10 %) of them, as in the inverse cloze task's recipe, since
   removing every source sentence overshoots toward dense — and scores the labelled tuner's
   grid offline (``quality/tuning.py``: convex and weighted RRF, every weight) by
   document-level nDCG@10 of the known answer;
3. picks on the tune half with the labelled tuner's rule (``select_configuration``: not below
   BM25 and within ``SE_MULTIPLE`` = 2 paired standard errors of the best, the one closest to
   the configured default). Two, not the labelled tuner's one: the best of ~100 settings on
   200 synthetic questions is an optimistic estimate (winner's curse) and pseudo-questions
   are a proxy for real ones, so the weights move only for a gain outside a ~95 % band;
   measured on SQuAD over 12 seeds, the one-SE band let 8 of 12 runs drift to dense weights
   0.6-0.8 (docs/benchmarks.md);
4. checks on the held-out half: the choice is *promoted* only if it beats the configured
   default there by more than one paired standard error; otherwise the default is kept
   (until 0.2 it only had to be not worse by more than one SE, which let E-Manual's tune half
   move to dense weight 0.6 on a held-out gap of -0.0001; labels scored that move 0.03 below
   the default);
5. checks the same held-out questions once more *with their source sentences in place*
   (``_copy_check``; the lists come free from step 2): again not more than one paired SE below
   the default. Real questions sit between the two extremes — a cloze question shares no
   sentence with its answer, a copied one shares everything — so a choice is kept only when
   it loses at neither end. The cloze end alone is biased toward dense on corpora of short
   passages whose real questions reuse the passage's words: on SQuAD, 3 of 7 seeds moved to
   dense weight 0.6-0.7 and lost up to 0.027 nDCG@10 against labels; with this check all 7
   keep the default (docs/benchmarks.md). In practice sentence questions can now move the
   weights toward keywords (the copy end agrees) but rarely toward dense; LLM-written or
   title/heading questions, which have no source sentence, are not held back by it;
6. caps the dense weight when the pseudo-questions do not establish the dense side's
   contribution (``quality/dense_evidence.py``: the default fusion must beat keyword ranking by
   ``Z_FULL`` = 2 paired SEs to keep its full dense weight; below, the weight shrinks in
   proportion). The steps above only ask which setting scores best; on E-Manual the best was
   the default by a hair (+0.012 at seed 0, a loss at seeds 1-3) while labels put it 0.02
   below keyword ranking.

The result (``AutoTuneResult``) holds the settings and the evidence (question counts, held-out
nDCG@10 of BM25, dense, equal-weight fusion, the default and the choice, the index generation
and corpus size it was tuned on). ``save_autotune`` stores it (table ``index_tuning``) where
every process sees it; ``TuningResolver`` (``retrieval/tunings.py``) serves it to retrieval.
Explicit ``retrieval.per_index`` entries (labelled ``groundwire tune``) win over auto-tuned
ones: labels, when a user has them, are better evidence than pseudo-questions.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np

from groundwire.quality.dense_evidence import dense_evidence
from groundwire.quality.metrics import ndcg_at
from groundwire.quality.pseudo_questions import PseudoQuestion, generate_pseudo_questions
from groundwire.quality.question_lists import (
    KEEP_SOURCE,
    QuestionLists,
    check_vectors,
    collect_lists,
    collect_lists_cloze,
    keeps_source,
    source_sentence,
)
from groundwire.quality.tuning import grid, select_configuration
from groundwire.retrieval.fusion import fuse
from groundwire.retrieval.tunings import TuningResolver, material_change
from groundwire.settings import RetrievalSettings, RetrievalTuning

if TYPE_CHECKING:
    from groundwire.engine import IndexEngine
    from groundwire.stores.base import StoredChunk

log = logging.getLogger(__name__)
__all__ = [  # re-exported: their old home
    "KEEP_SOURCE", "QuestionLists", "TuningResolver", "collect_lists", "keeps_source",
    "material_change", "source_sentence",
]

DEFAULT_QUESTIONS = 400
HOLDOUT_FRACTION = 0.5
SE_MULTIPLE = 2.0  # eligible on the tune half: within this many paired SEs of the best
MIN_COPY_QUESTIONS = 10  # fewer held-out cloze questions: no copy check



@dataclass
class AutoTuneResult:
    index: str
    tuning: RetrievalTuning
    promoted: bool
    evidence: dict[str, Any] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return {"index": self.index, "params": self.tuning.model_dump(),
                "promoted": self.promoted, "evidence": self.evidence}

    def summary(self) -> dict[str, Any]:
        """What an ingest or eval report shows of it: the settings, whether they moved, why,
        and the dense-evidence guard's numbers."""
        return {"params": self.tuning.model_dump(), "promoted": self.promoted,
                "reason": self.evidence.get("reason"),
                "dense_evidence": self.evidence.get("dense_evidence"),
                "seconds": self.evidence.get("seconds")}


def configured_default(retrieval: RetrievalSettings) -> RetrievalTuning:
    """The global retrieval settings (what an index without any tuning uses)."""
    return RetrievalTuning(fusion=retrieval.fusion, dense_weight=retrieval.dense_weight,
                           rrf_k=retrieval.rrf_k, candidates=retrieval.candidates,
                           fill_scores=retrieval.fill_scores)


def split_questions(
    questions: Sequence[PseudoQuestion], holdout: float, seed: int
) -> tuple[list[PseudoQuestion], list[PseudoQuestion]]:
    """Seeded split into (tune, held-out) by *document*, so no document answers both halves."""
    documents = sorted({q.document_id for q in questions})
    random.Random(seed + 1).shuffle(documents)
    held_docs = set(documents[: round(len(documents) * holdout)])
    tune = [q for q in questions if q.document_id not in held_docs]
    held = [q for q in questions if q.document_id in held_docs]
    return tune, held


def per_query_ndcg(lists: Sequence[QuestionLists], config: RetrievalTuning,
                   doc_of: dict[int, int]) -> np.ndarray:
    """Document-level nDCG@10 of each question's known answer under ``config``."""
    values = []
    for item in lists:
        fused = fuse(item.keyword, item.dense, method=config.fusion,
                     dense_weight=config.dense_weight, rrf_k=config.rrf_k)
        ranked = list(dict.fromkeys(str(doc_of[f.id]) for f in fused if f.id in doc_of))
        values.append(ndcg_at(ranked, {str(item.question.document_id): 1}, 10))
    return np.array(values, dtype=np.float64)


def _paired_se(a: np.ndarray, b: np.ndarray) -> float:
    diff = a - b
    return float(diff.std(ddof=1) / np.sqrt(len(diff))) if len(diff) > 1 else 0.0


REFERENCE_CONFIGS = {
    "bm25": RetrievalTuning(fusion="convex", dense_weight=0.0),
    "dense": RetrievalTuning(fusion="convex", dense_weight=1.0),
    "equal_convex": RetrievalTuning(fusion="convex", dense_weight=0.5),
    "equal_rrf": RetrievalTuning(fusion="rrf", dense_weight=0.5, rrf_k=60),
}


def choose(
    tune_lists: Sequence[QuestionLists],
    held_lists: Sequence[QuestionLists],
    doc_of: dict[int, int],
    default: RetrievalTuning,
    *,
    dense_guard: bool = True,
) -> tuple[RetrievalTuning, bool, dict[str, Any]]:
    """Select on the tune half, check on the held-out half, cap an unearned dense weight (see
    the module docstring; ``dense_guard`` False skips the cap, for tests of the other steps).

    Returns (settings to use, whether they differ from ``default`` by promotion, evidence)."""
    scored = [(c, per_query_ndcg(tune_lists, c, doc_of)) for c in grid()]
    picked, reason = select_configuration(scored, default, SE_MULTIPLE)
    reason = reason.replace("the labelled queries", "the tune half of the pseudo-questions")
    picked = picked.model_copy(update={"candidates": default.candidates})
    best_config, best_values = max(scored, key=lambda s: float(s[1].mean()))

    def held(config: RetrievalTuning) -> np.ndarray:
        return per_query_ndcg(held_lists, config, doc_of)

    held_picked, held_default = held(picked), held(default)
    se = _paired_se(held_picked, held_default)
    gap = float(held_picked.mean() - held_default.mean()) if len(held_lists) else 0.0
    # A move must *win* on the held-out half (by more than one paired SE), not merely not
    # lose: on E-Manual (34 manuals sharing sections) the tune half moved to dense 0.6 and the
    # held-out half showed -0.0001 against the default; labels put 0.6 0.03 below it.
    promoted = bool(len(held_lists)) and (picked == default or gap > se)
    if not promoted:
        reason = (f"held-out check failed ({gap:+.4f} against the default, SE {se:.4f}; a "
                  "change must gain more than one SE): kept the default")
        picked = default
    copy_check = _copy_check(held_lists, picked, default, doc_of)
    if copy_check is not None and not copy_check["passed"]:
        reason = (f"copy check failed ({copy_check['gap']:+.4f} against the default with the "
                  f"source sentences in place, SE {copy_check['se']:.4f}): kept the default")
        picked = default
    dense = dense_evidence([*tune_lists, *held_lists], default,
                           lambda lists, c: per_query_ndcg(lists, c, doc_of))
    if dense_guard and dense["cap"] is not None and picked.dense_weight > dense["cap"]:
        picked = picked.model_copy(update={"dense_weight": dense["cap"]})
        promoted = True
        reason = (f"dense side not established (fusion {dense['gain']:+.4f} over keyword "
                  f"ranking, {dense['z']} SE < {dense['z_full']:g}): dense weight capped at "
                  f"{dense['cap']:g}; `groundwire adapt` can fit the embedder to this corpus")
    held_out = {name: round(float(held(c).mean()), 4) if len(held_lists) else None
                for name, c in REFERENCE_CONFIGS.items()}
    held_out["default"] = round(float(held_default.mean()), 4) if len(held_lists) else None
    held_out["tuned"] = round(float(held(picked).mean()), 4) if len(held_lists) else None
    evidence = {
        "reason": reason,
        "tune_ndcg@10": {
            "tuned": round(float(per_query_ndcg(tune_lists, picked, doc_of).mean()), 4),
            "best": round(float(best_values.mean()), 4),
            "best_params": best_config.model_dump(),
        },
        "held_out_ndcg@10": held_out,
        "held_out_se": round(se, 4),
        "copy_check": copy_check,
        "dense_evidence": dense,
    }
    return picked, promoted and picked != default, evidence


def _copy_check(held_lists: Sequence[QuestionLists], picked: RetrievalTuning,
                default: RetrievalTuning, doc_of: dict[int, int]) -> dict[str, Any] | None:
    """The second held-out check: ``picked`` against ``default`` on the held-out questions
    whose source sentence was removed, scored with the sentence back in place. Passed unless
    more than one paired SE below the default there; None when nothing is to be checked
    (``picked`` is the default, or fewer than ``MIN_COPY_QUESTIONS`` such questions)."""
    copies = [item.as_copy() for item in held_lists if item.copy is not None]
    if picked == default or len(copies) < MIN_COPY_QUESTIONS:
        return None
    with_picked = per_query_ndcg(copies, picked, doc_of)
    with_default = per_query_ndcg(copies, default, doc_of)
    se = _paired_se(with_picked, with_default)
    gap = float(with_picked.mean() - with_default.mean())
    return {"questions": len(copies), "tuned": round(float(with_picked.mean()), 4),
            "default": round(float(with_default.mean()), 4), "gap": round(gap, 4),
            "se": round(se, 4), "passed": gap >= -se}


async def autotune(
    engine: IndexEngine,
    index: str,
    *,
    questions: int = DEFAULT_QUESTIONS,
    seed: int = 0,
    holdout: float = HOLDOUT_FRACTION,
    pseudo: Sequence[PseudoQuestion] | None = None,
    llm_questions: int | None = None,
) -> AutoTuneResult:
    """Self-tune ``index`` (see the module docstring). ``pseudo``: use these questions instead
    of generating them. ``llm_questions`` (default ``autotune.llm_questions``): how many of
    the generated sentence questions the configured LLM rewrites first (``with_llm_questions``;
    none without an LLM). Nothing is saved here: see ``save_autotune``.
    """
    started = time.perf_counter()
    generation, chunks = await engine.store.keyword_corpus(index)
    await check_vectors(engine, index, chunks, seed)
    doc_of = {c.chunk_id: c.document_id for c in chunks}
    if pseudo is None:
        pseudo = await asyncio.to_thread(generate_pseudo_questions, chunks, questions, seed)
        wanted = engine.settings.autotune.llm_questions if llm_questions is None else llm_questions
        pseudo = await with_llm_questions(engine, pseudo, chunks, wanted, seed)
    documents = set(doc_of.values())
    pseudo = [q for q in pseudo if q.document_id in documents]
    tune_q, held_q = split_questions(pseudo, holdout, seed)
    default = configured_default(engine.settings.retrieval)
    lists = await collect_lists_cloze(engine, index, [*tune_q, *held_q], chunks, seed=seed)
    tune_lists, held_lists = lists[: len(tune_q)], lists[len(tune_q):]
    if len(tune_lists) < 10 or len(held_lists) < 10:
        tuning, promoted = default, False
        evidence: dict[str, Any] = {
            "reason": f"too few pseudo-questions ({len(pseudo)}): kept the default"}
    else:
        tuning, promoted, evidence = await asyncio.to_thread(
            choose, tune_lists, held_lists, doc_of, default)
    kinds: dict[str, int] = {}
    for q in pseudo:
        kinds[q.kind] = kinds.get(q.kind, 0) + 1
    evidence.update({
        "questions": len(pseudo),
        "tune_questions": len(tune_lists),
        "held_out_questions": len(held_lists),
        "kinds": kinds,
        "seed": seed,
        "generation": generation,
        "documents": len(set(doc_of.values())),
        "chunks": len(chunks),
        "embedding_model": engine.retriever.embedder.model_id,
        "tuned_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.perf_counter() - started, 2),
    })
    return AutoTuneResult(index, tuning, promoted, evidence)


async def with_llm_questions(engine: IndexEngine, pseudo: Sequence[PseudoQuestion],
                             chunks: Sequence[StoredChunk], n: int, seed: int
                             ) -> list[PseudoQuestion]:
    """``pseudo`` with ``n`` of its sentence questions (a seeded draw) replaced by questions
    the configured LLM writes for the same chunk (kind ``"llm"``; a failed call keeps the
    sentence question). Unchanged when ``n`` is 0 or no LLM is configured."""
    from groundwire.quality.evalsets import llm_questions

    if n <= 0 or engine.answers.llm is None:
        return list(pseudo)
    sentence = [i for i, q in enumerate(pseudo) if q.kind == "sentence"]
    chosen = sorted(random.Random(seed + 2).sample(sentence, min(n, len(sentence))))
    written = await llm_questions(engine, [pseudo[i] for i in chosen],
                                  {c.chunk_id: c for c in chunks})
    out = list(pseudo)
    for i, q in zip(chosen, written, strict=True):
        out[i] = q
    return out


async def save_autotune(engine: IndexEngine, result: AutoTuneResult) -> None:
    """Store the result for every process and apply it in this one."""
    await engine.store.save_index_tuning(result.index, result.tuning.model_dump(), result.evidence,
                                     int(result.evidence.get("generation", 0)))
    await engine.tunings.reload(engine.store)


def tuning_status(engine: IndexEngine, index: str) -> dict[str, Any]:
    """What ``status`` and the API show: the settings in effect for ``index``, where they
    come from (``per_index`` | ``auto`` | ``default``) and the stored auto-tuning evidence."""
    return {
        "source": engine.tunings.source(index),
        "params": engine.tunings(index).model_dump(),
        "auto": engine.tunings.evidence.get(index),
        "auto_params": (engine.tunings.auto[index].model_dump()
                        if index in engine.tunings.auto else None),
    }
