"""Domain values: frozen dataclasses, standard library only, no I/O."""

from groundwire.domain.access import Access, Permissions, parse_permissions
from groundwire.domain.documents import (
    Block,
    Chunk,
    DocumentRecord,
    DocumentState,
    ParsedDocument,
    SourceItem,
)
from groundwire.domain.results import Answer, Citation, Hit, IngestReport, SearchRequest

__all__ = [
    "Access",
    "Permissions",
    "parse_permissions",
    "Answer",
    "Block",
    "Chunk",
    "Citation",
    "DocumentRecord",
    "DocumentState",
    "Hit",
    "IngestReport",
    "ParsedDocument",
    "SearchRequest",
    "SourceItem",
]
