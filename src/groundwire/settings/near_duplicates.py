"""The ``ingest.near_duplicates`` section: marking near-duplicate documents at ingest
(``groundwire/minhash.py``, ``stores/postgres/duplicates.py``; docs/ingest.md)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from groundwire.settings.base import _Section


class NearDuplicateSettings(_Section):
    enabled: bool = Field(
        True, description="Mark an ingested document that is a near-duplicate of a newer one "
        "(same index, tenant and reader set) with duplicate_of; it is kept but left out of "
        "retrieval. Off: no new marks (documents re-ingested lose theirs).",
    )
    threshold: float = Field(
        0.9, ge=0.5, le=1.0, description="Estimated Jaccard similarity (MinHash over word "
        "3-shingles of title + cleaned text) at or above which two documents are "
        "near-duplicates. 0.9 marks no distinct document of the four shared datasets "
        "(docs/benchmarks.md); lower values start to pair documents that differ in a few "
        "words that matter.",
    )
    num_perm: int = Field(
        128, ge=16, le=1024, description="MinHash permutations (signature size: 4 bytes "
        "each, stored per document). Changing it re-reads every document on the next "
        "ingest (re-embedding nothing).",
    )
    newer_by: Literal["modified", "modified_then_ingested"] = Field(
        "modified", description="Which document is the newer one. 'modified': only a "
        "strictly later modified time counts, so documents with equal or unknown modified "
        "times (e.g. records of one JSONL file) are never marked; 'modified_then_ingested': "
        "otherwise the later-ingested one is newer.",
    )
    include_in_search: bool = Field(
        False, description="Search documents marked as near-duplicates too (they are always "
        "stored and listed).",
    )

    @field_validator("num_perm")
    @classmethod
    def _whole_bands(cls, value: int) -> int:
        if value % 8:
            raise ValueError("num_perm must be a multiple of 8 (LSH bands of 8 values)")
        return value
