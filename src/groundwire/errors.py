"""Every error Groundwire raises on purpose. Edges map these to HTTP statuses / exit codes
in exactly one place each (``api/errors.py``, ``cli/main.py``).

    GroundwireError                  code: "internal"
    ├── ConfigurationError           invalid or unsafe settings, missing optional extra
    ├── InvalidRequest               bad input from a caller (HTTP 422 / exit 2);
    │                                "request.invalid_character": a NUL or an unpaired
    │                                surrogate anywhere in a request (api/text_guard.py)
    ├── NotFound                     unknown index, document, job (HTTP 404)
    ├── StoreUnavailable             PostgreSQL unreachable or not migrated (HTTP 503)
    ├── IndexNotReady                derived index missing / behind the store (HTTP 503)
    ├── EmbeddingError               the embedding model failed to load or encode
    ├── ProviderError                one LLM upstream call failed ("llm.timeout", "llm.http_503",
    │                                "llm.malformed", ...); ``retryable`` says whether the
    │                                fallback chain may call again. Never reaches a client: the
    │                                chain falls back, ending with the extractive answer
    ├── BudgetExceeded               a principal's request/token/cost budget is spent (HTTP 429)
    ├── Unauthenticated              "auth.missing_key" / "auth.invalid_key": no valid API key
    │                                (HTTP 401)
    ├── Forbidden                    "auth.forbidden": the key lacks the scope (HTTP 403)
    ├── RateLimited                  "rate_limited": a key's token bucket is empty (HTTP 429)
    ├── RequestTooLarge              "request.too_large": body over the size limit (HTTP 413)
    └── DocumentError                one document failed ingestion; ``code`` is stable and is
        │                            stored on the document record (the batch goes on)
        ├── ReadError                "read.io_error", "read.too_large"
        └── ParseError               "parse.empty", "parse.binary", "parse.pdf_invalid",
                                     "parse.docx_invalid", "parse.encoding", "parse.unsupported",
                                     "parse.record_invalid", "parse.record_duplicate",
                                     "parse.html_invalid", "parse.ocr_unavailable",
                                     "parse.ocr_failed", "parse.image_invalid"
"""

from __future__ import annotations


class GroundwireError(Exception):
    """Base class. ``code`` is a stable, machine-readable identifier; ``headers`` are extra
    HTTP response headers the API sends with the error (``Retry-After``, ``RateLimit``, ...)."""

    code = "internal"

    def __init__(
        self, message: str, *, code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code
        self.headers: dict[str, str] = dict(headers or {})

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


class ProviderError(GroundwireError):
    """One upstream LLM call failed. ``code`` says how (stable, used in metrics and answer
    records); ``retryable`` is False for failures a repeat cannot fix (400, 401, 403);
    ``retry_after`` is the server's Retry-After in seconds, when it sent one."""

    code = "llm.failed"

    def __init__(
        self, message: str, *, code: str | None = None, retryable: bool = True,
        retry_after: float | None = None, status: int | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.retryable = retryable
        self.retry_after = retry_after
        self.status = status


class BudgetExceeded(GroundwireError):
    """A principal's budget for the current period is spent; ``retry_after`` is the number of
    seconds until the period resets."""

    code = "budget.exceeded"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message, headers={"Retry-After": str(retry_after)})
        self.retry_after = retry_after


class RateLimited(GroundwireError):
    """A key's request rate for a route class is over its limit. ``headers`` carry
    ``Retry-After`` and the ``RateLimit-Policy`` / ``RateLimit`` headers
    (see ``security/ratelimit.py``)."""

    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, headers: dict[str, str]) -> None:
        super().__init__(message, headers={**headers, "Retry-After": str(retry_after)})
        self.retry_after = retry_after


class RequestTooLarge(GroundwireError):
    """A request body (or one uploaded file) is over its size limit (HTTP 413)."""

    code = "request.too_large"


class Unauthenticated(GroundwireError):
    """No API key, or one that is unknown, wrong, expired or revoked."""

    code = "auth.invalid_key"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message, code=code,
                         headers={"WWW-Authenticate": 'Bearer realm="groundwire"'})


class Forbidden(GroundwireError):
    """The key is valid but lacks the scope (or role) the operation needs."""

    code = "auth.forbidden"
