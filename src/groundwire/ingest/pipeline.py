"""The ingest pipeline: the only module that knows the stage order.

    connector.items()                      find source items (files, records)
      -> expand records files              one item per JSONL/CSV/JSON record
      -> skip unchanged                    content hash + pipeline fingerprint match (P2)
      -> parse -> clean -> chunk           per item; a failure is recorded on the item (coded)
      -> embed missing                     only chunk texts with no stored vector for the model
      -> commit batch                      documents + chunks + embeddings in one transaction (P3)
      -> delete vanished                   items of this source no longer found are removed

Contract: ``run`` never raises for a bad document: it records ``failed`` with a stable error
code and goes on. It raises only when the store or the embedder itself fails. Re-running on
unchanged input embeds nothing. A crash at any point leaves each document complete or absent.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace

from groundwire.domain import (
    Block,
    Chunk,
    IngestReport,
    ParsedDocument,
    Permissions,
    SourceItem,
    parse_permissions,
)
from groundwire.domain.documents import DocumentState, content_hash
from groundwire.embedding.base import Embedder
from groundwire.errors import DocumentError, ParseError
from groundwire.ingest.chunking import Chunker
from groundwire.ingest.cleaning import clean_document
from groundwire.ingest.parsers.records import RECORD_MEDIA_TYPES, RecordFailure, expand_records
from groundwire.minhash import document_signature
from groundwire.registry import Parser
from groundwire.settings import NearDuplicateSettings, PiiPolicySettings
from groundwire.stores.base import DocumentWrite, KnownDocument, Store

log = logging.getLogger(__name__)

PIPELINE_VERSION = "1"  # bump when parsing/cleaning/chunking output changes for the same input
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RecordFields:
    id: str = "id"
    title: str = "title"
    text: str = "text"
    permissions: str | None = "permissions"


@dataclass(frozen=True, slots=True)
class _Prepared:
    item: SourceItem
    digest: str
    chunks: list[Chunk] | None = None
    title: str = ""
    metadata: dict[str, object] | None = None
    error: DocumentError | None = None
    readers: tuple[str, ...] = ()
    minhash: bytes | None = None  # near-duplicate signature of title + cleaned text


class IngestPipeline:
    def __init__(
        self,
        *,
        store: Store,
        embedder: Embedder,
        chunker: Chunker,
        parsers: dict[str, Parser],
        chunker_fingerprint: str,
        record_fields: RecordFields | None = None,
        batch_size: int = 64,
        default_permissions: Permissions | None = None,
        shared_tenant: str = "default",
        pii: PiiPolicySettings | None = None,
        redact: Callable[[str], str] | None = None,
        near_duplicates: NearDuplicateSettings | None = None,
    ) -> None:
        """``default_permissions``: who reads a document whose source and front matter name
        nobody (None: the tenant's admins only — fail closed). ``near_duplicates``: marking
        at commit (``groundwire.minhash``; None: off)."""
        self._store = store
        self._embedder = embedder
        self._chunker = chunker
        self._parsers = parsers
        self._fields = record_fields or RecordFields()
        self._batch_size = batch_size
        self._default_permissions = default_permissions or Permissions()
        self._shared_tenant = shared_tenant  # its chunk hashes carry no tenant scope
        # PII policy per index (security.pii): "redact_index" redacts the cleaned text before
        # chunking, so no chunk, header, title or embedding ever holds the raw value.
        self._pii = pii or PiiPolicySettings(default="allow")
        self._redactor = redact
        self._dups = near_duplicates if near_duplicates and near_duplicates.enabled else None
        # Permission *policy* is part of the fingerprint: changing the default readers or the
        # permissions field re-reads every document (re-embedding nothing: vectors are keyed
        # by passage text). "intersect": how statements combine (documents ingested while a
        # sidecar replaced the front matter are re-read on the next ingest).
        policy = json.dumps([self._default_permissions.as_json(), self._fields.permissions,
                             self._pii.model_dump(mode="json"), "intersect"]
                            + ([f"minhash{self._dups.num_perm}"] if self._dups else []))
        self.fingerprint = content_hash(
            f"{PIPELINE_VERSION}|{chunker_fingerprint}|{embedder.model_id}|{policy}"
        )[:16]

    async def run(
        self,
        index: str,
        items: Iterable[SourceItem],
        *,
        source: tuple[str, str],
        retry_failed: bool = False,
        delete_missing: bool = True,
        progress: Progress | None = None,
        tenant: str = "default",
    ) -> IngestReport:
        """Ingest ``items`` from ``source`` (kind, location) into ``index`` for ``tenant``
        (every document of the run belongs to it; a source naming another tenant fails that
        document with ``permissions.tenant_mismatch``)."""
        started = time.perf_counter()
        report = IngestReport()
        source_id = await self._store.ensure_source(index, *source, tenant=tenant)
        known = await self._store.known_documents(index, source_id)
        expanded = await asyncio.to_thread(lambda: list(self._expand(items, report)))
        failures = [p for p in expanded if p.error is not None]
        candidates = [p for p in expanded if p.error is None]

        seen = {p.item.uri for p in expanded}
        todo: list[_Prepared] = []
        for prepared in candidates:
            previous = known.get(prepared.item.uri)
            if self._unchanged(previous, prepared.digest, retry_failed):
                report.unchanged += 1
            else:
                todo.append(prepared)
        await self._store.mark_pending(
            index, [p.item.uri for p in todo if p.item.uri not in known], source_id,
            tenant=tenant,
        )
        for failed in failures:
            if self._unchanged(known.get(failed.item.uri), failed.digest, retry_failed):
                report.unchanged += 1  # the same bad record as last time (it has a digest)
            else:
                await self._fail(index, failed, source_id, report, tenant)

        total = len(todo)
        done = 0
        if progress:
            progress(0, total)
        redact = self._redact if self._pii.for_index(index) == "redact_index" else None

        def prepare_batch(batch: Sequence[_Prepared]) -> list[_Prepared]:
            return [self._prepare(p, tenant, redact) for p in batch]

        for batch in _batches(todo, self._batch_size):
            ready = await asyncio.to_thread(prepare_batch, batch)
            await self._commit(index, ready, source_id, report, tenant)
            done += len(batch)
            if progress:
                progress(done, total)

        if delete_missing:
            vanished = [uri for uri in known if uri not in seen]
            report.deleted = await self._store.delete_documents(index, vanished, source_id)
        log.info(
            "ingest_batch_done",
            extra={"index": index, "source": source[1], **report.as_json()["documents"],
                   "chunks_embedded": report.chunks_embedded,
                   "ms": round((time.perf_counter() - started) * 1000)},
        )
        return report

    def _unchanged(self, previous: KnownDocument | None, digest: str, retry_failed: bool) -> bool:
        if previous is None or previous.content_hash != digest:
            return False
        if previous.state == DocumentState.FAILED:
            return not retry_failed
        return (
            previous.state == DocumentState.INDEXED
            and previous.pipeline_fingerprint == self.fingerprint
        )

    # ------------------------------------------------------------------ stages
    def _expand(self, items: Iterable[SourceItem], report: IngestReport) -> Iterator[_Prepared]:
        """Read each item once, split record files into records, hash the content."""
        for item in items:
            try:
                if item.text is not None:
                    yield _Prepared(item, _record_digest(item))
                    continue
                data = item.read()
                if item.media_type in RECORD_MEDIA_TYPES:
                    # A container: each record is its own document, a bad one fails alone.
                    yield from self._records(_with_bytes(item, data))
                    continue
                # Bytes are not kept: large folders would otherwise sit in memory; the file is
                # read again when (and only if) it needs parsing. The source's permissions are
                # part of the digest: a changed sidecar re-reads the document.
                yield _Prepared(item, content_hash(data + _permissions_bytes(item)))
            except DocumentError as exc:  # per-document catch: record it, go on
                yield _Prepared(item, "", error=exc)

    def _records(self, container: SourceItem) -> Iterator[_Prepared]:
        """The records of a records file: good ones to index, bad ones (coded, with their line)
        to record as failed documents. A whole-container error raises ``ParseError``."""
        fields = self._fields
        records = list(expand_records(container, id_field=fields.id, title_field=fields.title,
                                      text_field=fields.text,
                                      permissions_field=fields.permissions))
        for result in records:
            if isinstance(result, RecordFailure):
                yield _Prepared(result.item, result.digest, error=result.error)
            else:
                yield _Prepared(result, _record_digest(result))

    def _prepare(
        self, prepared: _Prepared, tenant: str, redact: Callable[[str], str] | None = None
    ) -> _Prepared:
        """Parse, clean, redact (``redact``: the index's policy is redact_index) and chunk
        one item (CPU only; runs in a worker thread)."""
        item = prepared.item
        try:
            if item.permissions_error is not None:
                raise ParseError(f"{item.uri}: invalid permissions: {item.permissions_error}",
                                 code="permissions.invalid")
            parsed = self._parse(item)
            doc = clean_document(parsed)
            if redact is not None:
                doc = _redacted(doc, redact)
            if not doc.blocks:
                raise ParseError(f"{item.uri}: no text after cleaning", code="parse.empty")
            chunks = self._chunker.chunk(doc)
            if not chunks:
                raise ParseError(f"{item.uri}: no body text to index", code="parse.empty")
            if tenant != self._shared_tenant:  # embeddings are shared within a tenant only
                chunks = [replace(c, hash_scope=tenant) for c in chunks]
            metadata = {**dict(item.metadata), **dict(doc.metadata)}
            readers = self._readers(item, metadata, tenant)
            if redact is not None:  # after the readers: permission entries are not PII
                metadata = {k: redact(v) if isinstance(v, str) else v
                            for k, v in metadata.items()}
            sig = (document_signature(doc.title, [b.text for b in doc.blocks],
                                      self._dups.num_perm) if self._dups else None)
            return _Prepared(item, prepared.digest, chunks, doc.title, metadata,
                             readers=readers, minhash=sig or None)
        except DocumentError as exc:  # per-document catch: the batch goes on
            return _Prepared(item, prepared.digest, error=exc)
        except Exception as exc:  # a parser bug must not sink the batch; code it as such
            log.exception("parser_crashed", extra={"uri": item.uri})
            error = ParseError(f"{item.uri}: parser crashed: {type(exc).__name__}: {exc}",
                               code="parse.crashed")
            return _Prepared(item, prepared.digest, error=error)

    def _redact(self, text: str) -> str:
        if self._redactor is None:
            from groundwire.safety.pii import PiiDetector

            self._redactor = PiiDetector().redact
        return self._redactor(text)

    def _readers(
        self, item: SourceItem, metadata: dict[str, object], tenant: str
    ) -> tuple[str, ...]:
        """Reader tokens: the source's permissions (a sidecar, or a record file's) and the
        document's own statement (front matter; removed from the metadata) combined by
        *intersection* — one can narrow the other, never widen it — else the default.
        Raises ``permissions.invalid`` / ``permissions.tenant_mismatch``."""
        field = self._fields.permissions
        stated = metadata.pop(field, None) if field else None
        statements = [item.permissions] if item.permissions is not None else []
        if stated not in (None, ""):
            try:
                statements.append(parse_permissions(stated))
            except ValueError as exc:
                raise ParseError(f"{item.uri}: invalid permissions: {exc}",
                                 code="permissions.invalid") from exc
        for statement in statements:
            if statement.tenant is not None and statement.tenant != tenant:
                raise ParseError(
                    f"{item.uri}: permissions name tenant {statement.tenant!r}, but this "
                    f"ingest runs for tenant {tenant!r}", code="permissions.tenant_mismatch")
        permissions = statements[0] if statements else self._default_permissions
        for statement in statements[1:]:
            permissions = permissions.intersect(statement)
        return tuple(permissions.readers(tenant))

    def _parse(self, item: SourceItem) -> ParsedDocument:
        if item.text is not None:
            return ParsedDocument(
                title=item.title or "",
                blocks=tuple(_paragraph_blocks(item.text)),
                metadata=dict(item.metadata),
            )
        parser = self._parsers.get(item.media_type)
        if parser is None:
            raise ParseError(
                f"{item.uri}: no parser for media type {item.media_type}", code="parse.unsupported"
            )
        return parser(item)

    async def _commit(
        self, index: str, batch: Sequence[_Prepared], source_id: int, report: IngestReport,
        tenant: str,
    ) -> None:
        ok = [p for p in batch if p.error is None and p.chunks]
        for failed in (p for p in batch if p.error is not None):
            await self._fail(index, failed, source_id, report, tenant)
        if not ok:
            return
        texts: dict[str, str] = {}
        for p in ok:
            for chunk in p.chunks or ():
                texts.setdefault(chunk.content_hash, chunk.search_text)
        missing = await self._store.missing_embeddings(self._embedder.model_id, list(texts))
        order = sorted(missing)
        vectors = await asyncio.to_thread(
            self._embedder.encode_passages, [texts[h] for h in order]
        )
        embeddings = {h: vectors[i].tolist() for i, h in enumerate(order)}
        writes = [
            DocumentWrite(
                uri=p.item.uri,
                title=p.title or p.item.title or "",
                media_type=p.item.media_type,
                content_hash=p.digest,
                pipeline_fingerprint=self.fingerprint,
                chunks=p.chunks or [],
                modified_at=p.item.modified_at,
                size_bytes=p.item.size,
                metadata=p.metadata or {},
                source_id=source_id,
                tenant=tenant,
                readers=p.readers,
                minhash=p.minhash,
            )
            for p in ok
        ]
        dups = self._dups
        await self._store.commit_documents(
            index, writes, embeddings, self._embedder.model_id,
            duplicate_threshold=dups.threshold if dups else None,
            duplicates_by_ingest_order=bool(dups and dups.newer_by == "modified_then_ingested"))
        report.indexed += len(writes)
        report.chunks_embedded += len(order)
        report.chunks_reused += len(texts) - len(order)

    async def _fail(
        self, index: str, prepared: _Prepared, source_id: int, report: IngestReport,
        tenant: str,
    ) -> None:
        error = prepared.error
        assert error is not None  # only called for failed items
        await self._store.mark_failed(
            index,
            prepared.item.uri,
            code=error.code,
            message=error.message,
            media_type=prepared.item.media_type,
            content_hash=prepared.digest or None,
            modified_at=prepared.item.modified_at,
            source_id=source_id,
            tenant=tenant,
            readers=(prepared.item.permissions or self._default_permissions).readers(tenant),
        )
        report.record_failure(error.code)


def _paragraph_blocks(text: str) -> Iterator[Block]:
    for para in text.split("\n\n"):
        if para.strip():
            yield Block(para)


def _with_bytes(item: SourceItem, data: bytes) -> SourceItem:
    """The same item with its bytes captured, so parsing does not read the file again."""
    return replace(item, read=lambda: data, size=len(data))


def _redacted(doc: ParsedDocument, redact: Callable[[str], str]) -> ParsedDocument:
    """The document with its title and every block PII-redacted (``safety/pii.py``); chunks
    are then exact slices of the redacted text."""
    blocks = tuple(replace(b, text=redact(b.text)) for b in doc.blocks)
    return replace(doc, title=redact(doc.title), blocks=blocks)


def _record_digest(item: SourceItem) -> str:
    permissions = item.permissions.as_json() if item.permissions else item.permissions_error
    payload = json.dumps(
        [item.title, item.text, dict(item.metadata), permissions], sort_keys=True, default=str
    )
    return content_hash(payload)


def _permissions_bytes(item: SourceItem) -> bytes:
    """The source's permissions as bytes for the content digest (empty when it states none,
    so documents without sidecars keep the digest they had before permissions existed)."""
    if item.permissions is None and item.permissions_error is None:
        return b""
    stated = item.permissions.as_json() if item.permissions else item.permissions_error
    return b"\x00permissions:" + json.dumps(stated, sort_keys=True).encode("utf-8")


def _batches(items: Sequence[_Prepared], size: int) -> Iterator[Sequence[_Prepared]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
