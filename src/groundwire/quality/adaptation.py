"""On-box domain adaptation of the embedder (``groundwire adapt``): bounded-time contrastive
fine-tuning on pseudo (question, passage) pairs of an index, kept only if it helps.

``adapt_embedder(engine, index, max_minutes=...)``:

1. pseudo-questions from the index's chunks (``quality/pseudo_questions.py``), split by
   document into training pairs and held-out questions (no document in both);
2. the current model is scored on the held-out questions over an evaluation sub-corpus (the
   held-out answers' chunks plus seeded random distractors, ``eval_chunks`` in all), each
   question's source sentence removed from it (inverse cloze task, as in self-tuning; training
   passages likewise): dense-only and fused (BM25 over the sub-corpus, fused with the index's
   retrieval settings) document-level nDCG@10;
3. the model is fine-tuned on the CPU with in-batch negatives (MultipleNegativesRankingLoss:
   cross-entropy over scaled cosine similarities of each question against every passage in the
   batch) until the step budget that fits ``max_minutes`` (measured as it goes) is spent;
4. the adapted model is scored the same way. It is **kept** (saved under
   ``data_dir/models/<model id>`` and recorded in ``data_dir/models/registry.json``) only if
   its fused held-out nDCG@10 beats the current model's by more than ``PROMOTION_SE`` = 2
   paired standard errors (``should_keep``); otherwise nothing is written. Two, not one, as in
   self-tuning (``autotune.SE_MULTIPLE``): the held-out questions come from the generator the
   model was trained on, so their gain is optimistic, and a kept model costs a re-embedding of
   the whole corpus. Measured (docs/benchmarks.md, one epoch on a quiet box): SciFact
   +0.0045 (SE 0.0027) and SQuAD +0.0088 (SE 0.0045) on pseudo-questions were +0.002 and
   -0.005 fused nDCG@10 on labelled queries; a one-SE rule kept both, two SEs keeps neither.
   Using it is a configuration change
   (``embedding.model = <id>``, ``embedding.model_path = <dir>``): the next ingest embeds every
   chunk that has no vector for that model id (the normal versioned path; the old model's
   vectors stay, so switching back re-embeds nothing).

The wall clock is bounded by ``max_minutes`` up to one evaluation pass (the adapted model must
still be scored), which is estimated from the baseline pass and reserved before training.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import random
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np

from groundwire.errors import ConfigurationError
from groundwire.quality.autotune import source_sentence, split_questions
from groundwire.quality.metrics import ndcg_at
from groundwire.quality.pseudo_questions import PseudoQuestion, generate_pseudo_questions
from groundwire.retrieval.fusion import fuse
from groundwire.retrieval.keyword import Bm25Index, Bm25Params
from groundwire.stores.base import StoredChunk

if TYPE_CHECKING:
    from groundwire.engine import IndexEngine

BATCH_SIZE = 32
LEARNING_RATE = 2e-5
SCALE = 20.0  # MultipleNegativesRankingLoss's default similarity scale
TRAIN_MAX_TOKENS = 128
HOLDOUT_QUESTIONS = 300
PROMOTION_SE = 2.0  # kept only for a fused held-out gain above this many paired SEs


def _say(progress: IO[str] | None, message: str) -> None:
    if progress is not None:
        print(message, file=progress, flush=True)


def _load(path: Path) -> Any:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    try:
        from sentence_transformers import SentenceTransformer
    except ImportError as exc:  # a plain install serves with ONNX; fine-tuning needs torch
        from groundwire.embedding.model_files import TORCH_EXTRA_HINT

        raise ConfigurationError(
            f"adapt fine-tunes with torch and sentence-transformers: {TORCH_EXTRA_HINT} "
            f"({exc})") from exc

    return SentenceTransformer(str(path), device="cpu")


def _encode(model: Any, texts: Sequence[str]) -> np.ndarray:
    vectors = model.encode(list(texts), batch_size=32, normalize_embeddings=True,
                           show_progress_bar=False, convert_to_numpy=True)
    return np.asarray(vectors, dtype=np.float32)


def evaluate_model(
    model: Any,
    held: Sequence[PseudoQuestion],
    pool: Sequence[StoredChunk],
    keyword_lists: Sequence[list[tuple[int, float]]],
    fusion: dict[str, Any],
) -> dict[str, np.ndarray]:
    """Per-question nDCG@10 (document level) of ``model`` on ``held`` over ``pool``: dense
    only and fused with the given keyword lists (already restricted to ``pool``)."""
    passages = _encode(model, [c.search_text for c in pool])
    queries = _encode(model, [q.query for q in held])
    ids = np.array([c.chunk_id for c in pool])
    doc_of = {c.chunk_id: str(c.document_id) for c in pool}
    sims = queries @ passages.T
    dense_scores, fused_scores = [], []
    for i, q in enumerate(held):
        top = np.argsort(-sims[i])[:100]
        dense = [(int(ids[j]), float(sims[i, j])) for j in top]
        relevant = {str(q.document_id): 1}
        ranked = list(dict.fromkeys(doc_of[c] for c, _ in dense))
        dense_scores.append(ndcg_at(ranked, relevant, 10))
        fused = fuse(keyword_lists[i], dense, method=fusion["fusion"],
                     dense_weight=fusion["dense_weight"], rrf_k=fusion["rrf_k"])
        ranked = list(dict.fromkeys(doc_of[f.id] for f in fused if f.id in doc_of))
        fused_scores.append(ndcg_at(ranked, relevant, 10))
    return {"dense": np.array(dense_scores), "fused": np.array(fused_scores)}


def train(model: Any, pairs: Sequence[tuple[str, str]], deadline: float, seed: int,
          progress: IO[str] | None = None,
          negatives: Sequence[str | None] | None = None) -> dict[str, Any]:
    """Fine-tune ``model`` in place with in-batch negatives until ``deadline`` (perf_counter)
    or one pass over ``pairs``; returns steps, pairs seen and the mean loss of the last 20.
    ``negatives`` (one per pair, None for none): hard negatives, scored against every
    question of the batch next to the in-batch passages (``quality/hard_negatives.py``)."""
    import torch

    torch.manual_seed(seed)
    torch.set_num_threads(os.cpu_count() or 1)
    rng = random.Random(seed)
    order = list(range(len(pairs)))
    rng.shuffle(order)
    window = model.max_seq_length
    model.max_seq_length = TRAIN_MAX_TOKENS  # shorter inputs while training (speed)
    # sentence-transformers >= 6 renamed ``tokenize`` to ``preprocess``.
    prepare = getattr(model, "preprocess", None) or model.tokenize
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=LEARNING_RATE)
    losses: list[float] = []
    steps = 0
    started = time.perf_counter()
    for start in range(0, len(order) - 1, BATCH_SIZE):
        picked = order[start: start + BATCH_SIZE]
        batch = [pairs[i] for i in picked]
        if len(batch) < 2 or time.perf_counter() >= deadline:
            break
        step_started = time.perf_counter()
        hard = [n for n in (negatives[i] for i in picked) if n] if negatives else []
        q_features = prepare([q for q, _ in batch])
        # Positives first, so question i's answer is column i; hard negatives after them.
        p_features = prepare([p for _, p in batch] + hard)
        q = torch.nn.functional.normalize(model(q_features)["sentence_embedding"], dim=-1)
        p = torch.nn.functional.normalize(model(p_features)["sentence_embedding"], dim=-1)
        logits = SCALE * q @ p.T
        loss = torch.nn.functional.cross_entropy(logits, torch.arange(len(batch)))
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
        steps += 1
        if steps % 10 == 0:
            _say(progress, f"  step {steps}: loss {np.mean(losses[-10:]):.3f}")
        # Stop before a step would cross the deadline.
        if time.perf_counter() + (time.perf_counter() - step_started) > deadline:
            break
    model.eval()
    model.max_seq_length = window  # evaluated and saved with the original input window
    return {"steps": steps, "pairs_seen": min(steps * BATCH_SIZE, len(pairs)),
            "epochs": round(steps * BATCH_SIZE / max(len(pairs), 1), 3),
            "loss_last": round(float(np.mean(losses[-20:])), 4) if losses else None,
            "loss_first": round(float(np.mean(losses[:20])), 4) if losses else None,
            "train_seconds": round(time.perf_counter() - started, 1)}


def cloze(question: PseudoQuestion, chunk: StoredChunk) -> StoredChunk:
    """``chunk`` without the sentence ``question`` was made from (unchanged for other kinds)."""
    sentence = source_sentence(question, chunk.text) if question.kind == "sentence" else None
    return replace(chunk, text=chunk.text.replace(sentence, " ")) if sentence else chunk


def _paired_se(a: np.ndarray, b: np.ndarray) -> float:
    d = a - b
    return float(d.std(ddof=1) / np.sqrt(len(d))) if len(d) > 1 else 0.0


def should_keep(steps: int, gain: float, se: float) -> bool:
    """Whether an adapted model is kept: it trained, and its fused held-out nDCG@10 gain is
    above ``PROMOTION_SE`` paired standard errors (a gain of 0 with SE 0 is not kept)."""
    return steps > 0 and gain > PROMOTION_SE * se


async def adapt_embedder(
    engine: IndexEngine,
    index: str,
    *,
    max_minutes: float = 10.0,
    questions: int = 2000,
    seed: int = 0,
    eval_chunks: int = 2000,
    progress: IO[str] | None = None,
    hard_negatives: bool = False,
) -> dict[str, Any]:
    """Fine-tune, compare on held-out pseudo-questions, keep only on improvement (see the
    module docstring). Returns the report (``kept``, gains, wall clock, model id and path).
    ``hard_negatives``: train against one BM25-mined negative per question as well."""
    report, _ = await adapt_and_compare(engine, index, max_minutes=max_minutes, questions=questions,
                                        seed=seed, eval_chunks=eval_chunks, progress=progress,
                                        hard_negatives=hard_negatives)
    return report


def base_model_path(engine: IndexEngine) -> Path:
    """Directory of the configured embedding model (the bundled one when unset)."""
    from groundwire.embedding.model_files import bundled_model_path

    path = engine.settings.embedding.model_path
    return Path(path) if path else bundled_model_path()


async def adapt_and_compare(
    engine: IndexEngine,
    index: str,
    *,
    max_minutes: float = 10.0,
    questions: int = 2000,
    seed: int = 0,
    eval_chunks: int = 2000,
    progress: IO[str] | None = None,
    hard_negatives: bool = False,
) -> tuple[dict[str, Any], Any]:
    """``adapt_embedder``'s work; also returns the fine-tuned model object (kept or not), for
    benchmarks that score it against labels."""

    started = time.perf_counter()
    deadline = started + max_minutes * 60
    settings = engine.settings
    base_path = base_model_path(engine)
    generation, chunks = await engine.store.keyword_corpus(index)
    pseudo = generate_pseudo_questions(chunks, questions, seed)
    train_q, held = split_questions(pseudo, 0.2, seed)
    held = held[:HOLDOUT_QUESTIONS]
    by_id = {c.chunk_id: c for c in chunks}
    # Inverse cloze task: a question's source sentence is removed from its passage, for
    # training pairs and for the evaluation pool alike (see ``autotune.collect_lists_cloze``).
    trained = [q for q in train_q if q.chunk_id in by_id]
    pairs = [(q.query, cloze(q, by_id[q.chunk_id]).search_text) for q in trained]
    negatives: list[str | None] | None = None
    if hard_negatives:
        from groundwire.quality.hard_negatives import mine_hard_negatives

        held_out_docs = {q.document_id for q in held}  # never train on a held-out answer
        negatives = await asyncio.to_thread(
            mine_hard_negatives, trained,
            [c for c in chunks if c.document_id not in held_out_docs])
    # Evaluation pool: every chunk of the held-out answers' documents plus seeded distractors.
    held_docs = {q.document_id for q in held}
    pool = [c for c in chunks if c.document_id in held_docs]
    others = [c for c in chunks if c.document_id not in held_docs]
    random.Random(seed + 2).shuffle(others)
    pool += others[: max(0, eval_chunks - len(pool))]
    source = {q.chunk_id: q for q in held}
    pool = [cloze(source[c.chunk_id], c) if c.chunk_id in source else c for c in pool]
    bm25 = await asyncio.to_thread(Bm25Index, 0, pool, Bm25Params())
    keyword_lists = [bm25.search(q.query, 100) for q in held]
    fusion = engine.tunings(index).model_dump()
    _say(progress, f"adapt {index}: {len(pairs)} training pairs, {len(held)} held-out "
                   f"questions, evaluation pool {len(pool)} chunks")

    def work() -> dict[str, Any]:
        model = _load(base_path)
        t0 = time.perf_counter()
        before = evaluate_model(model, held, pool, keyword_lists, fusion)
        eval_s = time.perf_counter() - t0
        _say(progress, f"  current model: dense {before['dense'].mean():.4f}, fused "
                       f"{before['fused'].mean():.4f} ({eval_s:.0f} s)")
        training = train(model, pairs, deadline - 1.2 * eval_s - 10, seed, progress, negatives)
        after = evaluate_model(model, held, pool, keyword_lists, fusion)
        return {"model": model, "before": before, "after": after, "training": training,
                "eval_seconds": round(eval_s, 1)}

    out = await asyncio.to_thread(work)
    before, after = out["before"], out["after"]
    gain = float(after["fused"].mean() - before["fused"].mean())
    se = _paired_se(after["fused"], before["fused"])
    kept = should_keep(out["training"]["steps"], gain, se)
    bar = PROMOTION_SE * se
    digest = hashlib.sha256(
        json.dumps([index, generation, seed, questions, out["training"]["steps"],
                    settings.embedding.model] + (["hard"] if hard_negatives else [])
                   ).encode()).hexdigest()[:8]
    model_id = f"{settings.embedding.model}-adapted-{index}-{digest}"
    report: dict[str, Any] = {
        "index": index,
        "base_model": settings.embedding.model,
        "kept": kept,
        "reason": (f"fused held-out nDCG@10 {gain:+.4f} > {PROMOTION_SE:g} SE ({bar:.4f})"
                   if kept else f"not promoted: fused held-out nDCG@10 {gain:+.4f} is not above "
                                f"{PROMOTION_SE:g} SE ({bar:.4f})"),
        "held_out_questions": len(held),
        "training_pairs": len(pairs),
        "hard_negatives": sum(1 for n in negatives if n) if negatives is not None else None,
        "eval_pool_chunks": len(pool),
        "before": {k: round(float(v.mean()), 4) for k, v in before.items()},
        "after": {k: round(float(v.mean()), 4) for k, v in after.items()},
        "gain": {k: round(float(after[k].mean() - before[k].mean()), 4) for k in before},
        "paired_se_fused": round(se, 4),
        "promotion_se": PROMOTION_SE,
        "training": out["training"],
        "eval_seconds": out["eval_seconds"],
        "generation": generation,
        "seed": seed,
    }
    if kept:
        folder = Path(settings.data_dir) / "models" / model_id
        folder.parent.mkdir(parents=True, exist_ok=True)
        await asyncio.to_thread(out["model"].save, str(folder))
        report["model_id"] = model_id
        report["model_path"] = str(folder.resolve())
        report["use"] = {"embedding.model": model_id, "embedding.model_path": str(folder.resolve()),
                         "then": f"groundwire ingest <path> --index {index} (embeds what is "
                                 "missing for the new model id)"}
        registry = folder.parent / "registry.json"
        entries = json.loads(registry.read_text()) if registry.exists() else {}
        entries[model_id] = {**{k: v for k, v in report.items() if k != "use"},
                             "created_at": datetime.now(UTC).isoformat(timespec="seconds")}
        registry.write_text(json.dumps(entries, indent=2))
    report["wall_seconds"] = round(time.perf_counter() - started, 1)
    return report, out["model"]
