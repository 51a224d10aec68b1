"""Record files: JSON Lines (optionally gzip-compressed), JSON arrays and CSV, expanded into
one ``SourceItem`` per record (a BEIR ``corpus.jsonl`` is such a file).

A records file is a *container*: each record is its own document with its own state, and one
bad record fails that record only. ``expand_records`` yields, in file order, a ``SourceItem``
per good record and a ``RecordFailure`` per bad one; ``iter_records`` is the strict form that
raises the first failure (for callers that want all or nothing).

Each record becomes an item with ``uri = f"{container_uri}#{record_id}"``, media type
``text/plain`` and its ``title``/``text`` already set, so the text parser reads it without
decoding anything. Per-record errors (a ``RecordFailure``, its message naming the line):
``parse.record_invalid`` (malformed JSON, a record that is not an object, a missing or
non-string text field, corrupt gzip data from some line on), ``parse.record_duplicate`` (an
id seen earlier in the file: the first record keeps it, the later one fails) and
``parse.encoding`` (a line that is not UTF-8). Whole-container errors (raised as
``ParseError``): ``parse.record_invalid`` (a JSON file that is not a list, unreadable JSON or
CSV header, gzip data corrupt before the first record), ``parse.encoding``, ``parse.empty``
(no records at all) or ``parse.unsupported``.

The uri of a failed record is ``#<id>`` when its id could be read, ``#<id>@line-<n>`` for a
duplicate (so it never collides with the first record of that id), else ``#line-<n>``
(``#record-<n>`` in a JSON array, ``#row-<n>`` in a CSV).
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
import json
import zlib
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import IO, Any, cast

from groundwire.domain import SourceItem, parse_permissions
from groundwire.errors import ParseError
from groundwire.ingest.parsers.media_types import CSV, JSON, NDJSON, PLAIN_TEXT
from groundwire.ingest.parsers.text import decode_text

RECORD_MEDIA_TYPES = frozenset({NDJSON, JSON, CSV})

_GZIP_MAGIC = b"\x1f\x8b"
_CSV_DELIMITERS = ",;\t|"
_SNIFF_CHARS = 64 * 1024
_SCALARS = (str, int, float, bool)


@dataclass(frozen=True, slots=True)
class RecordFailure:
    """One record of a container that could not be read.

    ``item`` is the record as a failed document: ``uri`` per the module docstring, the
    container's media type, modification time and permissions; ``error`` is coded and its
    message names the line (row, element); ``digest`` hashes the record's raw bytes, so an
    unchanged bad record is recognised as unchanged on the next run.
    """

    item: SourceItem
    error: ParseError
    digest: str


@dataclass(frozen=True, slots=True)
class _Raw:
    where: str  # "line 7", "record 3", "row 2"
    raw: bytes
    record: dict[str, Any] | None = None
    error: ParseError | None = None


def _invalid(message: str) -> ParseError:
    return ParseError(message, code="parse.record_invalid")


def _open_stream(data: bytes) -> IO[bytes]:
    """The bytes as a stream, transparently gunzipped when they start with the gzip magic."""
    raw = io.BytesIO(data)
    if data.startswith(_GZIP_MAGIC):
        return cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))
    return raw


def _read_all(data: bytes, uri: str) -> bytes:
    try:
        with _open_stream(data) as stream:
            return stream.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise _invalid(f"{uri}: corrupt gzip data: {exc}") from exc


def _jsonl_records(data: bytes, uri: str) -> Iterator[_Raw]:
    with _open_stream(data) as stream:
        number = 0
        while True:
            try:
                line = stream.readline()
            except (OSError, EOFError, zlib.error) as exc:
                if number == 0:
                    raise _invalid(f"{uri}: corrupt gzip data: {exc}") from exc
                error = _invalid(f"{uri}: line {number + 1}: corrupt gzip data after line "
                                 f"{number}, the rest of the file is unreadable: {exc}")
                yield _Raw(f"line {number + 1}", b"", error=error)
                return
            if not line:
                return
            number += 1
            if not line.strip():
                continue
            where = f"line {number}"
            try:
                value = json.loads(line)
            except UnicodeDecodeError:
                error = ParseError(f"{uri}: {where} is not valid UTF-8", code="parse.encoding")
                yield _Raw(where, line, error=error)
                continue
            except ValueError as exc:
                yield _Raw(where, line, error=_invalid(f"{uri}: {where}: malformed JSON: {exc}"))
                continue
            if not isinstance(value, dict):
                kind = type(value).__name__
                error = _invalid(f"{uri}: {where}: expected a JSON object, got {kind}")
                yield _Raw(where, line, error=error)
                continue
            yield _Raw(where, line, record=value)


def _json_records(data: bytes, uri: str) -> Iterator[_Raw]:
    raw = _read_all(data, uri)
    try:
        value = json.loads(raw)
    except UnicodeDecodeError as exc:
        raise ParseError(f"{uri}: not valid UTF-8 JSON", code="parse.encoding") from exc
    except ValueError as exc:
        if not raw.strip():
            raise ParseError(f"{uri}: the file is empty", code="parse.empty") from exc
        raise _invalid(f"{uri}: malformed JSON: {exc}") from exc
    if not isinstance(value, list):
        raise _invalid(
            f"{uri}: expected a top-level JSON list of objects, got {type(value).__name__}"
        )
    for number, record in enumerate(value, 1):
        where = f"record {number}"
        encoded = json.dumps(record, sort_keys=True, default=str).encode("utf-8")
        if not isinstance(record, dict):
            kind = type(record).__name__
            error = _invalid(f"{uri}: {where}: expected a JSON object, got {kind}")
            yield _Raw(where, encoded, error=error)
            continue
        yield _Raw(where, encoded, record=record)


def _csv_reader(data: bytes, uri: str) -> csv.DictReader[str]:
    text = decode_text(_read_all(data, uri), uri)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(
            text[:_SNIFF_CHARS], delimiters=_CSV_DELIMITERS
        )
    except csv.Error:
        dialect = csv.excel
    reader = csv.DictReader(io.StringIO(text, newline=""), dialect=dialect)
    try:
        fieldnames = reader.fieldnames
    except csv.Error as exc:
        raise _invalid(f"{uri}: unreadable CSV header: {exc}") from exc
    if not fieldnames:
        raise ParseError(f"{uri}: the CSV file has no header row", code="parse.empty")
    reader.fieldnames = [name.strip() for name in fieldnames]
    return reader


def _csv_records(reader: csv.DictReader[str], uri: str) -> Iterator[_Raw]:
    number = 0
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            number += 1
            where = f"row {number}"
            yield _Raw(where, str(exc).encode(), error=_invalid(f"{uri}: {where}: "
                                                                  f"unreadable CSV: {exc}"))
            continue
        if row is None:
            return
        number += 1
        # Short rows give None values, long rows put the surplus under the key None.
        record = {k: ("" if v is None else v) for k, v in row.items() if k}
        raw = json.dumps(record, sort_keys=True).encode("utf-8")
        yield _Raw(f"row {number}", raw, record=record)


def _as_text(value: Any, field: str, where: str, uri: str) -> str:
    if isinstance(value, str):
        text = value
    elif isinstance(value, _SCALARS):
        text = str(value)
    else:
        raise _invalid(
            f"{uri}: {where}: field {field!r} must be a string, got {type(value).__name__}"
        )
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # lone surrogates from JSON escapes
        text = text.encode("utf-8", "replace").decode("utf-8")
    return text


def _reader(payload: bytes) -> Callable[[], bytes]:
    return lambda: payload


def _record_id(record: Mapping[str, Any], id_field: str) -> tuple[str | None, str | None]:
    """(id, the field it came from); ``_id`` stands in for a missing ``id`` (BEIR)."""
    for field in (id_field, "_id") if id_field == "id" else (id_field,):
        value = record.get(field)
        if isinstance(value, _SCALARS) and not isinstance(value, bool) and str(value).strip():
            return str(value).strip(), field
    return None, None


@dataclass(frozen=True, slots=True)
class _Fields:
    id: str
    title: str
    text: str
    permissions: str | None
    text_column_missing: bool


def expand_records(
    item: SourceItem,
    *,
    id_field: str = "id",
    title_field: str = "title",
    text_field: str = "text",
    permissions_field: str | None = None,
) -> Iterator[SourceItem | RecordFailure]:
    """One ``SourceItem`` per good record and one ``RecordFailure`` per bad record of a JSON
    Lines / JSON / CSV item, in file order (a bad record never stops the others).

    ``uri`` is ``f"{item.uri}#{record_id}"``: the record's ``id_field`` (``_id`` when
    ``id_field`` is ``"id"`` and ``id`` is absent), else its 1-based line (JSONL), element
    (JSON) or data-row (CSV) number. ``title`` and ``text`` come from ``title_field`` and
    ``text_field``; a JSON record without ``text_field`` fails ``parse.record_invalid``, a CSV
    without that column gets ``"column: value"`` lines of its other columns instead.
    ``metadata`` holds the record's other scalar fields; ``modified_at`` is the container's.
    ``permissions_field`` (when given and present) is intersected with the container's
    ``permissions`` (a sidecar) to give the record's ``permissions``
    (an invalid value sets ``permissions_error``: that record fails, the others go on);
    a record without it keeps the container's permissions.
    Gzip is detected by its magic bytes, whatever the name. Raises ``ParseError`` only for
    whole-container errors (module docstring).
    """
    media_type = item.media_type
    if media_type not in RECORD_MEDIA_TYPES:
        raise ParseError(
            f"{item.uri}: {media_type} is not a record format", code="parse.unsupported"
        )
    data = item.read()
    text_column_missing = False
    records: Iterator[_Raw]
    if media_type == NDJSON:
        records = _jsonl_records(data, item.uri)
    elif media_type == JSON:
        records = _json_records(data, item.uri)
    else:
        reader = _csv_reader(data, item.uri)
        text_column_missing = text_field not in (reader.fieldnames or ())
        records = _csv_records(reader, item.uri)
    fields = _Fields(id_field, title_field, text_field, permissions_field, text_column_missing)

    seen: dict[str, str] = {}
    count = 0
    for raw in records:
        count += 1
        suffix = raw.where.replace(" ", "-")
        if raw.record is None:
            assert raw.error is not None
            yield _failure(item, suffix, raw, raw.error)
            continue
        record_id, used_id_field = _record_id(raw.record, id_field)
        if record_id is None:
            record_id = raw.where.rsplit(" ", 1)[1]
        if record_id in seen:
            error = ParseError(
                f"{item.uri}: {raw.where}: duplicate id {record_id!r} (first at "
                f"{seen[record_id]}; the first one is kept)", code="parse.record_duplicate")
            yield _failure(item, f"{record_id}@{suffix}", raw, error)
            continue
        seen[record_id] = raw.where
        try:
            yield _record_item(item, raw.record, record_id, used_id_field, raw.where, fields)
        except ParseError as exc:
            yield _failure(item, record_id, raw, exc)
    if not count:
        raise ParseError(f"{item.uri}: no records found", code="parse.empty")


def iter_records(
    item: SourceItem,
    *,
    id_field: str = "id",
    title_field: str = "title",
    text_field: str = "text",
    permissions_field: str | None = None,
) -> Iterator[SourceItem]:
    """``expand_records`` all or nothing: the good records in file order, raising the first
    bad record's ``ParseError`` when it is reached (records before it were yielded)."""
    for result in expand_records(item, id_field=id_field, title_field=title_field,
                                 text_field=text_field, permissions_field=permissions_field):
        if isinstance(result, RecordFailure):
            raise result.error
        yield result


def _failure(container: SourceItem, suffix: str, raw: _Raw, error: ParseError) -> RecordFailure:
    failed = replace(container, uri=f"{container.uri}#{suffix}", read=_reader(raw.raw),
                     size=len(raw.raw), title=None, text=None, metadata={})
    digest = hashlib.sha256(error.code.encode() + b"\x00" + raw.raw).hexdigest()
    return RecordFailure(failed, error, digest)


def _record_item(
    item: SourceItem, record: dict[str, Any], record_id: str, used_id_field: str | None,
    where: str, fields: _Fields,
) -> SourceItem:
    """The good record as a ``SourceItem``; raises ``parse.record_invalid``."""
    title_value = record.get(fields.title)
    title = (
        _as_text(title_value, fields.title, where, item.uri).strip() or None
        if isinstance(title_value, _SCALARS)
        else None
    )
    reserved = {used_id_field, fields.id, fields.title, fields.text}
    permissions, permissions_error = item.permissions, item.permissions_error
    if fields.permissions:
        reserved.add(fields.permissions)
        if record.get(fields.permissions) not in (None, "") and permissions_error is None:
            # The record's own field narrows the file's sidecar, never widens it (and a
            # broken sidecar keeps failing its records).
            try:
                own = parse_permissions(record[fields.permissions])
                permissions = own if permissions is None else permissions.intersect(own)
            except ValueError as exc:
                permissions, permissions_error = None, f"{where}: {exc}"

    if fields.text_column_missing:
        text = "\n".join(
            f"{key}: {value}"
            for key, value in record.items()
            if key not in reserved and str(value).strip()
        )
    else:
        value = record.get(fields.text)
        if value is None:
            raise _invalid(f"{item.uri}: {where}: missing text field {fields.text!r}")
        text = _as_text(value, fields.text, where, item.uri)
    if not text.strip() and title:
        # A record with a title and no body (a heading whose content lives in other
        # records) is still a findable document: its title is its text. Without this it
        # failed with parse.empty and `eval` refused the whole corpus as incomplete.
        text = title
    metadata = {
        key: value
        for key, value in record.items()
        if key not in reserved and isinstance(value, _SCALARS)
    }
    payload = text.encode("utf-8")
    return SourceItem(
        uri=f"{item.uri}#{record_id}",
        media_type=PLAIN_TEXT,
        read=_reader(payload),
        modified_at=item.modified_at,
        size=len(payload),
        title=title,
        text=text,
        metadata=metadata,
        permissions=permissions,
        permissions_error=permissions_error,
    )
