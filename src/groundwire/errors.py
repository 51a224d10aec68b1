"""Every error Groundwire raises on purpose. Edges map these to HTTP statuses / exit codes
in exactly one place each (``api/errors.py``, ``cli/main.py``).

    GroundwireError                  code: "internal"
    ├── ConfigurationError           invalid or unsafe settings, missing optional extra
    ├── InvalidRequest               bad input from a caller (HTTP 422 / exit 2)
    ├── NotFound                     unknown index, document, job (HTTP 404)
    ├── StoreUnavailable             PostgreSQL unreachable or not migrated (HTTP 503)
    ├── IndexNotReady                derived index missing / behind the store (HTTP 503)
    ├── EmbeddingError               the embedding model failed to load or encode
    └── DocumentError                one document failed ingestion; ``code`` is stable and is
        │                            stored on the document record (the batch goes on)
        ├── ReadError                "read.io_error", "read.too_large"
        └── ParseError               "parse.empty", "parse.binary", "parse.pdf_invalid",
                                     "parse.docx_invalid", "parse.encoding", "parse.unsupported",
                                     "parse.record_invalid", "parse.html_invalid"
"""

from __future__ import annotations


class GroundwireError(Exception):
    """Base class. ``code`` is a stable, machine-readable identifier."""

    code = "internal"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class ConfigurationError(GroundwireError):
    code = "config.invalid"


class InvalidRequest(GroundwireError):
    code = "request.invalid"


class NotFound(GroundwireError):
    code = "not_found"


class StoreUnavailable(GroundwireError):
    code = "store.unavailable"


class IndexNotReady(GroundwireError):
    code = "index.not_ready"


class EmbeddingError(GroundwireError):
    code = "embedding.failed"


class DocumentError(GroundwireError):
    """A single document could not be ingested; recorded on its record, never fatal to a run."""

    code = "document.failed"


class ReadError(DocumentError):
    code = "read.io_error"


class ParseError(DocumentError):
    code = "parse.failed"
