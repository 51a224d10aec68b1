"""Sections of retrieval and answering quality: retrieval (and its tuning), answer,
autotune and the success contract."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator

from groundwire.settings.base import _Section


class RetrievalTuning(_Section):
    """The retrieval knobs ``groundwire tune`` learns; the same shape per index."""

    fusion: Literal["rrf", "convex"] = Field(
        "convex",
        description="How keyword and dense lists are fused: weighted reciprocal-rank fusion or "
        "a convex combination of min-max-normalised scores.",
    )
    dense_weight: float = Field(
        0.5, ge=0.0, le=1.0, description="Weight of the dense list; the keyword list gets 1 - w."
    )
    rrf_k: int = Field(60, ge=1, le=1000, description="RRF constant (rrf fusion only).")
    candidates: int = Field(
        100, ge=10, le=2000, description="Candidates taken from each retriever before fusion."
    )
    fill_scores: bool = Field(
        True,
        description="Score every fused candidate on both sides: the exact cosine of keyword "
        "candidates the vector index did not return, and the BM25 score of dense candidates "
        "the keyword list did not hold (instead of counting them as 0). Keeps fusion from "
        "penalising a passage for an approximate-search miss.",
    )


class RetrievalSettings(RetrievalTuning):
    per_index: dict[str, RetrievalTuning] = Field(
        default_factory=dict,
        description="Tuned settings per index name (written by `groundwire tune`); an index "
        "without an entry uses the defaults above.",
    )
    bm25_k1: float = Field(
        0.9, ge=0.0, le=10.0, description="BM25 term-frequency saturation of the keyword "
        "index (Anserini's passage default; larger counts repeated terms more).",
    )
    bm25_b: float = Field(
        0.4, ge=0.0, le=1.0, description="BM25 length normalisation of the keyword index "
        "(0: none, 1: full).",
    )
    phrase_weight: float = Field(
        0.3, ge=0.0, le=5.0, description="Weight of the adjacent-term (phrase) BM25 added to "
        "the word BM25 of the keyword index: a passage holding the query's words side by side "
        "outranks one holding them apart (0: words only; retrieval/phrases.py).",
    )
    keyword_snapshots: bool = Field(
        True, description="Persist each built keyword (BM25) index under `data_dir/keyword` "
        "and memory-map it in every process that finds one matching the index's current "
        "state, instead of rebuilding it from the database (docs/operations.md).",
    )
    hnsw_ef_search: int = Field(
        100, ge=10, le=1000, description="pgvector hnsw.ef_search (recall vs speed of ANN)."
    )
    hnsw_m: int = Field(
        16, ge=4, le=100, description="pgvector HNSW `m` (graph degree) of a model's vector "
        "index, used when the index is built; larger raises recall and index size.",
    )
    hnsw_ef_construction: int = Field(
        64, ge=8, le=1000, description="pgvector HNSW `ef_construction` of a model's vector "
        "index, used when the index is built; larger raises recall and build time.",
    )

    def for_index(self, index: str) -> RetrievalTuning:
        tuned = self.per_index.get(index)
        if tuned is not None:
            return tuned
        return RetrievalTuning(
            fusion=self.fusion,
            dense_weight=self.dense_weight,
            rrf_k=self.rrf_k,
            candidates=self.candidates,
            fill_scores=self.fill_scores,
        )


class AnswerSettings(_Section):
    passages: int = Field(5, ge=1, le=50, description="Top passages the answerer reads.")
    max_sentences: int = Field(3, ge=1, le=20, description="Sentences in an extractive answer.")
    min_support: float = Field(
        0.35,
        ge=0.0,
        le=1.0,
        description="Abstain when the best sentence's support (cosine similarity to the "
        "question blended with query-term coverage) is below this.",
    )



class AutoTuneSettings(_Section):
    """Label-free self-tuning of fusion per index (``groundwire tune --auto``)."""

    enabled: bool = Field(
        True, description="Use stored auto-tuned retrieval settings for indexes without a "
        "`retrieval.per_index` entry, and re-tune in the background after a material ingest."
    )
    questions: int = Field(
        400, ge=20, le=20000, description="Pseudo-questions generated per auto-tune (half held "
        "out to check the choice)."
    )
    llm_questions: int = Field(
        0, ge=0, le=5000, description="Sentence pseudo-questions rewritten by the configured "
        "LLM (one call each) before tuning; 0: none. An LLM's questions paraphrase their "
        "passage instead of copying it, so they can move the weights toward dense where "
        "sentence questions alone cannot (the copy check holds such moves back)."
    )
    min_documents: int = Field(
        50, ge=1, description="Indexes with fewer indexed documents are not auto-tuned after "
        "an ingest (too little to learn from)."
    )
    min_change: float = Field(
        0.2, gt=0, description="An ingest is material when the documents it indexed or deleted "
        "are at least this share of those the index was last tuned on (or it was never tuned)."
    )
    refresh_s: float = Field(
        30.0, ge=0, description="How often a process re-reads auto-tunings saved by other "
        "processes (0: only at start and after its own saves)."
    )



CONTRACT_METRICS = (
    "ndcg@10", "recall@10", "recall@100", "mrr@10", "hit@1", "hit@5",
    "citation_precision", "groundedness", "abstention_rate", "answer_rate",
    "search_p95_ms", "ask_p95_ms", "cost_per_answer",
)


class ContractTarget(_Section):
    """One target of the success contract: the measured value must be >= min and/or <= max."""

    min: float | None = Field(None, description="Lowest acceptable value.")
    max: float | None = Field(None, description="Highest acceptable value.")

    @model_validator(mode="after")
    def _bounded(self) -> ContractTarget:
        if self.min is None and self.max is None:
            raise ValueError("a contract target needs min or max")
        return self


class ContractSettings(_Section):
    """The success contract checked by `groundwire eval --contract` and `versions promote`
    (see docs/evaluation.md)."""

    eval_sets: list[Path] = Field(
        default_factory=list,
        description="BEIR-like eval set folders (relative paths: to the config file's folder). "
        "A set with corpus.jsonl is ingested into its own index; a set without one (e.g. from "
        "`groundwire evalset generate`) is evaluated against `contract.index`.",
    )
    index: str = Field(
        "default", description="Index (logical name) evaluated for eval sets without a corpus."
    )
    split: str | None = Field(None, description="Query split of the eval sets (queries_<split>).")
    answer_limit: int = Field(
        200, ge=0, le=100_000,
        description="Most questions per set sent through the full answer flow (citation "
        "precision, groundedness, abstention, answer latency and cost).",
    )
    targets: dict[str, ContractTarget] = Field(
        default_factory=dict,
        description="Metric -> {min, max}. Metrics: " + ", ".join(CONTRACT_METRICS) + ". "
        "A target no eval set could measure (e.g. groundedness without an LLM) is a miss.",
    )
    history: bool = Field(
        True, description="Keep every contract report under data_dir/eval_history/."
    )

    @field_validator("targets")
    @classmethod
    def _known_metrics(cls, value: dict[str, ContractTarget]) -> dict[str, ContractTarget]:
        unknown = sorted(set(value) - set(CONTRACT_METRICS))
        if unknown:
            raise ValueError(f"unknown contract metric(s) {unknown}; known: {CONTRACT_METRICS}")
        return value
