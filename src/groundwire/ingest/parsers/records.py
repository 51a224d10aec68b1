"""Record files: JSON Lines (optionally gzip-compressed), JSON arrays and CSV, expanded into
one ``SourceItem`` per record (a BEIR ``corpus.jsonl`` is such a file).

Each record becomes an item with ``uri = f"{container_uri}#{record_id}"``, media type
``text/plain`` and its ``title``/``text`` already set, so the text parser reads it without
decoding anything. Errors are ``ParseError`` with code ``parse.record_invalid`` (malformed
JSON, a record that is not an object, a missing text field, a duplicate id, corrupt gzip
data), ``parse.encoding`` (not UTF-8), ``parse.empty`` (no records) or ``parse.unsupported``.
Records before a malformed one have already been yielded when the error is raised.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import zlib
from collections.abc import Callable, Iterator, Mapping
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


def _jsonl_records(data: bytes, uri: str) -> Iterator[tuple[str, dict[str, Any]]]:
    with _open_stream(data) as stream:
        number = 0
        while True:
            try:
                line = stream.readline()
            except (OSError, EOFError, zlib.error) as exc:
                raise _invalid(f"{uri}: corrupt gzip data after line {number}: {exc}") from exc
            if not line:
                return
            number += 1
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except UnicodeDecodeError as exc:
                raise ParseError(
                    f"{uri}: line {number} is not valid UTF-8", code="parse.encoding"
                ) from exc
            except ValueError as exc:
                raise _invalid(f"{uri}: line {number}: malformed JSON: {exc}") from exc
            if not isinstance(value, dict):
                kind = type(value).__name__
                raise _invalid(f"{uri}: line {number}: expected a JSON object, got {kind}")
            yield f"line {number}", value


def _json_records(data: bytes, uri: str) -> Iterator[tuple[str, dict[str, Any]]]:
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
        if not isinstance(record, dict):
            raise _invalid(
                f"{uri}: record {number}: expected a JSON object, got {type(record).__name__}"
            )
        yield f"record {number}", record


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


def _csv_records(reader: csv.DictReader[str], uri: str) -> Iterator[tuple[str, dict[str, Any]]]:
    number = 0
    while True:
        try:
            row = next(reader, None)
        except csv.Error as exc:
            raise _invalid(f"{uri}: row {number + 1}: unreadable CSV: {exc}") from exc
        if row is None:
            return
        number += 1
        # Short rows give None values, long rows put the surplus under the key None.
        yield f"row {number}", {k: ("" if v is None else v) for k, v in row.items() if k}


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


def iter_records(
    item: SourceItem,
    *,
    id_field: str = "id",
    title_field: str = "title",
    text_field: str = "text",
    permissions_field: str | None = None,
) -> Iterator[SourceItem]:
    """One ``SourceItem`` per record of a JSON Lines / JSON / CSV item, in file order.

    ``uri`` is ``f"{item.uri}#{record_id}"``: the record's ``id_field`` (``_id`` when
    ``id_field`` is ``"id"`` and ``id`` is absent), else its 1-based line (JSONL), element
    (JSON) or data-row (CSV) number. ``title`` and ``text`` come from ``title_field`` and
    ``text_field``; a JSON record without ``text_field`` is ``parse.record_invalid``, a CSV
    without that column gets ``"column: value"`` lines of its other columns instead.
    ``metadata`` holds the record's other scalar fields; ``modified_at`` is the container's.
    ``permissions_field`` (when given and present) is intersected with the container's
    ``permissions`` (a sidecar) to give the record's ``permissions``
    (an invalid value sets ``permissions_error``: that record fails, the others go on);
    a record without it keeps the container's permissions.
    Gzip is detected by its magic bytes, whatever the name. See the module docstring for
    errors.
    """
    media_type = item.media_type
    if media_type not in RECORD_MEDIA_TYPES:
        raise ParseError(
            f"{item.uri}: {media_type} is not a record format", code="parse.unsupported"
        )
    data = item.read()
    text_column_missing = False
    records: Iterator[tuple[str, dict[str, Any]]]
    if media_type == NDJSON:
        records = _jsonl_records(data, item.uri)
    elif media_type == JSON:
        records = _json_records(data, item.uri)
    else:
        reader = _csv_reader(data, item.uri)
        text_column_missing = text_field not in (reader.fieldnames or ())
        records = _csv_records(reader, item.uri)

    seen: dict[str, str] = {}
    for where, record in records:
        record_id, used_id_field = _record_id(record, id_field)
        if record_id is None:
            record_id = where.rsplit(" ", 1)[1]
        if record_id in seen:
            raise _invalid(
                f"{item.uri}: {where}: duplicate id {record_id!r} (first at {seen[record_id]})"
            )
        seen[record_id] = where

        title_value = record.get(title_field)
        title = (
            _as_text(title_value, title_field, where, item.uri).strip() or None
            if isinstance(title_value, _SCALARS)
            else None
        )
        reserved = {used_id_field, id_field, title_field, text_field}
        permissions, permissions_error = item.permissions, item.permissions_error
        if permissions_field:
            reserved.add(permissions_field)
            if record.get(permissions_field) not in (None, "") and permissions_error is None:
                # The record's own field narrows the file's sidecar, never widens it (and a
                # broken sidecar keeps failing its records).
                try:
                    own = parse_permissions(record[permissions_field])
                    permissions = own if permissions is None else permissions.intersect(own)
                except ValueError as exc:
                    permissions, permissions_error = None, f"{where}: {exc}"

        if text_column_missing:
            text = "\n".join(
                f"{key}: {value}"
                for key, value in record.items()
                if key not in reserved and str(value).strip()
            )
        else:
            value = record.get(text_field)
            if value is None:
                raise _invalid(f"{item.uri}: {where}: missing text field {text_field!r}")
            text = _as_text(value, text_field, where, item.uri)
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
        yield SourceItem(
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
    if not seen:
        raise ParseError(f"{item.uri}: no records found", code="parse.empty")
