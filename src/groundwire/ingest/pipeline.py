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

from groundwire.domain import Block, Chunk, IngestReport, ParsedDocument, SourceItem
from groundwire.domain.documents import DocumentState, content_hash
from groundwire.embedding.base import Embedder
from groundwire.errors import DocumentError, ParseError
from groundwire.ingest.chunking import Chunker
from groundwire.ingest.cleaning import clean_document
from groundwire.ingest.parsers.records import RECORD_MEDIA_TYPES, iter_records
from groundwire.registry import Parser
from groundwire.stores.base import DocumentWrite, KnownDocument, Store

log = logging.getLogger(__name__)

PIPELINE_VERSION = "1"  # bump when parsing/cleaning/chunking output changes for the same input
Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class RecordFields:
    id: str = "id"
    title: str = "title"
    text: str = "text"


@dataclass(frozen=True, slots=True)
class _Prepared:
    item: SourceItem
    digest: str
    chunks: list[Chunk] | None = None
    title: str = ""
    metadata: dict[str, object] | None = None
    error: DocumentError | None = None


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
    ) -> None:
        self._store = store
        self._embedder = embedder
        self._chunker = chunker
        self._parsers = parsers
        self._fields = record_fields or RecordFields()
        self._batch_size = batch_size
        self.fingerprint = content_hash(
            f"{PIPELINE_VERSION}|{chunker_fingerprint}|{embedder.model_id}"
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
    ) -> IngestReport:
        """Ingest ``items`` from ``source`` (kind, location) into ``index``."""
        started = time.perf_counter()
        report = IngestReport()
        source_id = await self._store.ensure_source(index, *source)
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
            index, [p.item.uri for p in todo if p.item.uri not in known], source_id
        )
        for failed in failures:
            await self._fail(index, failed, source_id, report)

        total = len(todo)
        done = 0
        if progress:
            progress(0, total)
        for batch in _batches(todo, self._batch_size):
            prepared = await asyncio.to_thread(lambda b=batch: [self._prepare(p) for p in b])
            await self._commit(index, prepared, source_id, report)
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
                    frozen = _with_bytes(item, data)
                    records = list(
                        iter_records(frozen, id_field=self._fields.id,
                                     title_field=self._fields.title, text_field=self._fields.text)
                    )
                    for record in records:
                        yield _Prepared(record, _record_digest(record))
                    continue
                # Bytes are not kept: large folders would otherwise sit in memory; the file is
                # read again when (and only if) it needs parsing.
                yield _Prepared(item, content_hash(data))
            except DocumentError as exc:  # per-document catch: record it, go on
                yield _Prepared(item, "", error=exc)

    def _prepare(self, prepared: _Prepared) -> _Prepared:
        """Parse, clean and chunk one item (CPU only; runs in a worker thread)."""
        item = prepared.item
        try:
            parsed = self._parse(item)
            doc = clean_document(parsed)
            if not doc.blocks:
                raise ParseError(f"{item.uri}: no text after cleaning", code="parse.empty")
            chunks = self._chunker.chunk(doc)
            if not chunks:
                raise ParseError(f"{item.uri}: no body text to index", code="parse.empty")
            metadata = {**dict(item.metadata), **dict(doc.metadata)}
            return _Prepared(item, prepared.digest, chunks, doc.title, metadata)
        except DocumentError as exc:  # per-document catch: the batch goes on
            return _Prepared(item, prepared.digest, error=exc)
        except Exception as exc:  # a parser bug must not sink the batch; code it as such
            log.exception("parser_crashed", extra={"uri": item.uri})
            error = ParseError(f"{item.uri}: parser crashed: {type(exc).__name__}: {exc}",
                               code="parse.crashed")
            return _Prepared(item, prepared.digest, error=error)

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
        self, index: str, batch: Sequence[_Prepared], source_id: int, report: IngestReport
    ) -> None:
        ok = [p for p in batch if p.error is None and p.chunks]
        for failed in (p for p in batch if p.error is not None):
            await self._fail(index, failed, source_id, report)
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
            )
            for p in ok
        ]
        await self._store.commit_documents(index, writes, embeddings, self._embedder.model_id)
        report.indexed += len(writes)
        report.chunks_embedded += len(order)
        report.chunks_reused += len(texts) - len(order)

    async def _fail(
        self, index: str, prepared: _Prepared, source_id: int, report: IngestReport
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
        )
        report.record_failure(error.code)


def _paragraph_blocks(text: str) -> Iterator[Block]:
    for para in text.split("\n\n"):
        if para.strip():
            yield Block(para)


def _with_bytes(item: SourceItem, data: bytes) -> SourceItem:
    """The same item with its bytes captured, so parsing does not read the file again."""
    return replace(item, read=lambda: data, size=len(data))


def _record_digest(item: SourceItem) -> str:
    payload = json.dumps(
        [item.title, item.text, dict(item.metadata)], sort_keys=True, default=str
    )
    return content_hash(payload)


def _batches(items: Sequence[_Prepared], size: int) -> Iterator[Sequence[_Prepared]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]
