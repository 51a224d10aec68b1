"""What an assessment reads: a path (folder, one file, or a JSONL/JSONL.GZ/CSV/JSON records
file) before ingestion, or an index already in the store.

Documents are streamed one at a time as ``AssessedDocument`` (text, structure, chunks and the
facts the dimensions need); nothing keeps all texts. A path is read with the ingest code
itself: the folder connector, record expansion (``expand_records``), the registered parsers,
``clean_document`` and the real ``Chunker`` — so "fails to parse" here means exactly what it
means at ingest (same coded reasons). A records file is a container, as at ingest: each record
is a document, and a bad record is one failed document (``file.jsonl#line-7``, its message
naming the line) while the file's other records are assessed. ACL sidecars (``*.acl.json``)
are not documents.
"""

from __future__ import annotations

import html as html_lib
import io
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from groundwire.assess.access import is_sidecar, permission_metadata
from groundwire.domain import Chunk, ParsedDocument, SourceItem
from groundwire.domain.documents import DocumentState
from groundwire.errors import DocumentError, InvalidRequest, ParseError
from groundwire.ingest.chunking import Chunker
from groundwire.ingest.cleaning import clean_document
from groundwire.ingest.parsers.media_types import HTML, PDF
from groundwire.ingest.parsers.records import (
    RECORD_MEDIA_TYPES,
    RecordFailure,
    expand_records,
)
from groundwire.settings import Settings
from groundwire.stores.base import Store

TokenCounter = Callable[[str], int]
# Record / front-matter fields read as the document's modification date (first found wins).
DATE_FIELDS = ("modified_at", "updated_at", "last_modified", "modified", "updated", "date")


@dataclass(frozen=True, slots=True)
class AssessmentSource:
    """A path (folder, single file, or records file) or an index name in the store.

    Exactly one of ``path`` and ``index`` is set; use ``AssessmentSource.of_path`` /
    ``AssessmentSource.of_index``.
    """

    path: Path | None = None
    index: str | None = None

    def __post_init__(self) -> None:
        if (self.path is None) == (self.index is None):
            raise InvalidRequest("an assessment source is either a path or an index name")

    @classmethod
    def of_path(cls, path: Path | str) -> AssessmentSource:
        return cls(path=Path(path))

    @classmethod
    def of_index(cls, index: str = "default") -> AssessmentSource:
        return cls(index=index)

    @property
    def kind(self) -> str:
        return "path" if self.path is not None else "index"

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "path": None if self.path is None else str(self.path),
            "index": self.index,
        }


@dataclass(slots=True)
class AssessedDocument:
    """One document as the dimensions see it.

    ``error_code`` is the ingest error code when it could not be read or parsed (then
    ``text`` is ""); ``parse.empty`` means no text after cleaning. ``text`` is the cleaned
    text (``ParsedDocument.text``), ``chunks`` the real chunker's output. ``container`` is the
    folder or records file it came from. ``raw_html`` is the decoded markup of HTML files (for
    hidden-text checks); ``page_count`` is set for PDFs; ``permissions`` is the result of
    ``access.permission_metadata``.
    """

    uri: str
    media_type: str
    container: str
    size: int | None = None
    modified_at: datetime | None = None
    title: str = ""
    text: str = ""
    doc: ParsedDocument | None = None
    chunks: list[Chunk] = field(default_factory=list)
    metadata: Mapping[str, Any] = field(default_factory=dict)
    error_code: str | None = None
    error_message: str | None = None
    raw_html: str | None = None
    page_count: int | None = None
    permissions: dict[str, Any] | None = None

    @property
    def failed(self) -> bool:
        return self.error_code is not None and self.error_code != "parse.empty"

    @property
    def empty(self) -> bool:
        return self.error_code == "parse.empty" or (self.error_code is None and not self.text)


def _returning(data: bytes) -> Callable[[], bytes]:
    """A ``SourceItem.read`` that returns bytes already read."""
    return lambda: data


def _container(uri: str) -> str:
    path = uri.split("#", 1)[0]
    return path.rsplit("/", 1)[0] if "/" in path else "."


def _pdf_pages(data: bytes) -> int | None:
    from groundwire.ingest.parsers.pdf import _quiet_pypdf

    try:
        with _quiet_pypdf():
            from pypdf import PdfReader

            return len(PdfReader(io.BytesIO(data), strict=False).pages)
    except Exception:  # a damaged PDF has no page count; parsing reports why
        return None


def _decode_html(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return html_lib.unescape(data.decode("latin-1"))


class PathReader:
    """Streams ``AssessedDocument`` from a folder, file or records file (see module doc)."""

    def __init__(
        self, root: Path, settings: Settings, parsers: Mapping[str, Any], chunker: Chunker
    ) -> None:
        from groundwire.ingest.connectors.folder import FolderConnector

        self.root = Path(root).expanduser().resolve()
        cfg = settings.ingest
        self._connector = FolderConnector(
            self.root,
            include=cfg.include,
            exclude=cfg.exclude,
            max_bytes=int(cfg.max_file_mb * 1024 * 1024),
        )
        self._fields = (cfg.record_id_field, cfg.record_title_field, cfg.record_text_field)
        self._parsers = parsers
        self._chunker = chunker

    def _file(self, uri: str) -> Path:
        return self.root if self.root.is_file() else self.root / uri

    def documents(self) -> Iterator[AssessedDocument]:
        for item in self._connector.items():
            if is_sidecar(item.uri):
                continue
            try:
                data = item.read()
            except DocumentError as exc:
                yield self._failed(item, exc)
                continue
            item = replace(item, read=_returning(data), size=len(data))
            if item.media_type in RECORD_MEDIA_TYPES:
                yield from self._records(item)
                continue
            yield self._document(item, data)

    def _records(self, item: SourceItem) -> Iterator[AssessedDocument]:
        """Each record of a records file as its own document; a bad record is one failed
        document (the others go on), a whole-container error fails the file."""
        id_field, title_field, text_field = self._fields
        acl_path = self._file(item.uri)
        try:
            for result in expand_records(
                item, id_field=id_field, title_field=title_field, text_field=text_field
            ):
                if isinstance(result, RecordFailure):
                    yield self._failed(result.item, result.error, container=item.uri,
                                       acl_path=acl_path)
                    continue
                yield self._document(result, None, container=item.uri, acl_path=acl_path)
        except DocumentError as exc:  # the container itself is unreadable
            yield self._failed(item, exc)

    def _failed(
        self, item: SourceItem, exc: DocumentError, *, container: str | None = None,
        acl_path: Path | None = None,
    ) -> AssessedDocument:
        """A document that could not be read; a failed record (``container``: its records
        file, ``acl_path`` that file's path) keeps the file's sidecar permissions."""
        return AssessedDocument(
            uri=item.uri,
            media_type=item.media_type,
            container=container or _container(item.uri),
            size=item.size,
            modified_at=item.modified_at,
            error_code=exc.code,
            error_message=exc.message,
            permissions=permission_metadata(item.metadata, path=acl_path or self._file(item.uri)),
        )

    def _document(
        self,
        item: SourceItem,
        data: bytes | None,
        *,
        container: str | None = None,
        acl_path: Path | None = None,
    ) -> AssessedDocument:
        """A file (``data`` its bytes) or a record of ``container`` (``data`` None); a record
        without permission fields falls back to its records file's sidecar (``acl_path``)."""
        path = acl_path if container is not None else self._file(item.uri)
        doc = AssessedDocument(
            uri=item.uri,
            media_type=item.media_type,
            container=container or _container(item.uri),
            size=item.size,
            modified_at=item.modified_at,
            metadata=dict(item.metadata),
        )
        if data is not None and item.media_type == PDF:
            doc.page_count = _pdf_pages(data)
        if data is not None and item.media_type == HTML:
            doc.raw_html = _decode_html(data)
        try:
            parsed = self._parse(item)
            cleaned = clean_document(parsed)
            doc.metadata = {**dict(item.metadata), **dict(cleaned.metadata)}
            doc.title = cleaned.title or item.title or ""
            if not cleaned.blocks:
                raise ParseError(f"{item.uri}: no text after cleaning", code="parse.empty")
            doc.doc = cleaned
            doc.text = cleaned.text
            doc.chunks = self._chunker.chunk(cleaned)
        except DocumentError as exc:
            doc.error_code, doc.error_message = exc.code, exc.message
        except Exception as exc:  # a parser bug: coded as at ingest, the run goes on
            doc.error_code = "parse.crashed"
            doc.error_message = f"{item.uri}: parser crashed: {type(exc).__name__}: {exc}"
        doc.permissions = permission_metadata(doc.metadata, path=path)
        return doc

    def _parse(self, item: SourceItem) -> ParsedDocument:
        parser = self._parsers.get(item.media_type)
        if parser is None:
            raise ParseError(
                f"{item.uri}: no parser for media type {item.media_type}",
                code="parse.unsupported",
            )
        return parser(item)


async def index_documents(
    store: Store, index: str, count_tokens: TokenCounter
) -> AsyncIterator[AssessedDocument]:
    """Documents of an index: indexed ones rebuilt from their stored chunks (text = the
    chunks' spans merged in order), failed ones with their stored error code."""
    from groundwire.domain import Block

    await store.generation(index)  # NotFound for an unknown index
    records: dict[int, Any] = {}
    offset = 0
    while True:
        page = await store.list_documents(index, limit=1000, offset=offset)
        if not page:
            break
        for record in page:
            records[record.id] = record
        offset += len(page)
    _, stored = await store.keyword_corpus(index)
    by_doc: dict[int, list[Any]] = {}
    for chunk in stored:
        by_doc.setdefault(chunk.document_id, []).append(chunk)
    for doc_id, record in records.items():
        base = AssessedDocument(
            uri=record.uri,
            media_type="",
            container=_container(record.uri),
            modified_at=record.modified_at,
            title=record.title,
            metadata=dict(record.metadata),
        )
        parts = sorted(by_doc.get(doc_id, []), key=lambda c: c.char_start)
        if record.state == DocumentState.FAILED or not parts:
            base.error_code = record.error_code or "parse.empty"
            base.error_message = record.error_message
        else:
            base.media_type = parts[0].media_type
            metadata = {**dict(parts[0].metadata), **base.metadata}
            base.metadata = metadata
            text: list[str] = []
            end = 0
            for c in parts:
                if c.char_end <= end:
                    continue
                start = max(c.char_start, end)
                if start > end and text:
                    text.append("\n\n")
                text.append(c.text[start - c.char_start :])
                end = c.char_end
            base.text = "".join(text)
            base.doc = ParsedDocument(title=record.title, blocks=(Block(base.text),))
            base.chunks = [
                Chunk(
                    position=i,
                    text=c.text,
                    header=c.header,
                    heading_path=c.heading_path,
                    char_start=c.char_start,
                    char_end=c.char_end,
                    token_count=count_tokens(c.search_text),
                )
                for i, c in enumerate(parts)
            ]
        base.permissions = permission_metadata(base.metadata)
        yield base
