"""The near-duplicates port: which documents ingest marked as near-duplicates of a newer
one (``documents.duplicate_of``; marking itself happens inside ``commit_documents``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from groundwire.domain import Access


@dataclass(frozen=True, slots=True)
class DuplicatePair:
    """A document hidden from retrieval and the newer one it is a near-duplicate of."""

    duplicate_id: int
    duplicate_uri: str
    kept_id: int
    kept_uri: str


@runtime_checkable
class NearDuplicateCatalog(Protocol):
    """Reading the near-duplicate marks of an index.

    * ``count_duplicates(index, access)``: indexed documents of ``index`` marked as a
      near-duplicate (readable under ``access`` only).
    * ``duplicate_pairs(index, access, limit)``: those documents with the one each is a
      near-duplicate of, ordered by the duplicate's uri; both documents are of the same
      tenant and reader set, so ``access`` admits both or neither.
    """

    async def count_duplicates(self, index: str, access: Access | None = None) -> int: ...

    async def duplicate_pairs(
        self, index: str, access: Access | None = None, limit: int = 100
    ) -> list[DuplicatePair]: ...
