"""Record containers (JSONL, gzip JSONL, JSON, CSV) expanded into one item per record."""

from __future__ import annotations

import gzip
import json
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from groundwire.domain import Block, SourceItem, parse_permissions
from groundwire.errors import ParseError
from groundwire.ingest.parsers import media_type_for, parse_text
from groundwire.ingest.parsers.records import (
    RECORD_MEDIA_TYPES,
    RecordFailure,
    expand_records,
    iter_records,
)

MODIFIED = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def container(uri: str, data: bytes, media_type: str | None = None) -> SourceItem:
    return SourceItem(
        uri=uri,
        media_type=media_type or media_type_for(uri),
        read=lambda: data,
        modified_at=MODIFIED,
    )


def jsonl(*records: object) -> bytes:
    return "".join(json.dumps(r) + "\n" for r in records).encode("utf-8")


def record_error(item: SourceItem, **fields: str) -> ParseError:
    with pytest.raises(ParseError) as info:
        list(iter_records(item, **fields))
    return info.value


def test_record_media_types() -> None:
    assert isinstance(RECORD_MEDIA_TYPES, frozenset)
    assert set(RECORD_MEDIA_TYPES) == {"application/x-ndjson", "application/json", "text/csv"}


def test_beir_corpus_record_with_underscore_id() -> None:
    data = jsonl(
        {"_id": "4983", "title": "Microstructural development", "text": "Alterations of the "
         "architecture.", "metadata": {}, "year": 2004, "peer_reviewed": True, "note": None},
    )  # fmt: skip
    [record] = iter_records(container("scifact/corpus.jsonl", data))
    assert record.uri == "scifact/corpus.jsonl#4983"
    assert record.media_type == "text/plain"
    assert record.title == "Microstructural development"
    assert record.text == "Alterations of the architecture."
    assert record.read() == b"Alterations of the architecture."
    assert record.size == len(b"Alterations of the architecture.")
    assert record.modified_at == MODIFIED
    assert dict(record.metadata) == {"year": 2004, "peer_reviewed": True}
    doc = parse_text(record)
    assert doc.title == "Microstructural development"
    assert doc.blocks == (Block("Alterations of the architecture.", 0),)


def test_id_wins_over_underscore_id_and_missing_ids_use_line_numbers() -> None:
    data = (
        b'{"id": "a", "_id": "ignored", "text": "one"}\n'
        b"\n"
        b'{"text": "three"}\n'
        b'{"id": "", "text": "four"}\n'
    )
    uris = [r.uri for r in iter_records(container("c.jsonl", data))]
    assert uris == ["c.jsonl#a", "c.jsonl#3", "c.jsonl#4"]


def test_gzip_is_detected_by_magic_bytes_not_name() -> None:
    data = gzip.compress(jsonl({"_id": "x1", "title": "T", "text": "gz body"}), mtime=0)
    for uri in ("corpus.jsonl.gz", "corpus.jsonl"):
        [record] = iter_records(container(uri, data))
        assert record.uri == f"{uri}#x1"
        assert record.text == "gz body"


def test_gzipped_jsonl_file_on_disk(tmp_path: Path) -> None:
    path = tmp_path / "corpus.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as handle:
        for i in range(3):
            handle.write(json.dumps({"_id": f"d{i}", "title": f"T{i}", "text": f"body {i}"}))
            handle.write("\n")
    item = SourceItem(uri=path.name, media_type=media_type_for(path.name), read=path.read_bytes)
    records = list(iter_records(item))
    assert [(r.uri, r.title, r.text) for r in records] == [
        ("corpus.jsonl.gz#d0", "T0", "body 0"),
        ("corpus.jsonl.gz#d1", "T1", "body 1"),
        ("corpus.jsonl.gz#d2", "T2", "body 2"),
    ]


def test_truncated_gzip_is_record_invalid() -> None:
    data = gzip.compress(jsonl(*({"id": i, "text": "x" * 50} for i in range(200))), mtime=0)
    error = record_error(container("c.jsonl.gz", data[: len(data) // 2]))
    assert error.code == "parse.record_invalid"
    assert "gzip" in str(error)


def test_malformed_json_line_names_its_line_after_earlier_records_were_yielded() -> None:
    data = b'{"id": "ok", "text": "fine"}\n{"id": "bad", "text": \n{"id": "z", "text": "z"}\n'
    records = iter_records(container("c.jsonl", data))
    assert next(records).uri == "c.jsonl#ok"
    with pytest.raises(ParseError) as info:
        next(records)
    assert info.value.code == "parse.record_invalid"
    assert "line 2" in str(info.value)


def test_non_object_line_is_record_invalid() -> None:
    error = record_error(container("c.jsonl", b'{"id": 1, "text": "a"}\n[1, 2]\n'))
    assert error.code == "parse.record_invalid"
    assert "line 2" in str(error)


def test_missing_text_field_in_json_lines_names_field_and_line() -> None:
    error = record_error(container("c.jsonl", jsonl({"id": 1, "text": "a"}, {"id": 2, "b": 1})))
    assert error.code == "parse.record_invalid"
    assert "'text'" in str(error)
    assert "line 2" in str(error)


def test_non_string_text_field_is_record_invalid() -> None:
    error = record_error(container("c.jsonl", jsonl({"id": 1, "text": ["a", "b"]})))
    assert error.code == "parse.record_invalid"


def test_custom_field_names() -> None:
    data = jsonl({"doc_id": 17, "headline": "News", "body": "Story.", "id": "not-the-id"})
    [record] = iter_records(
        container("n.jsonl", data), id_field="doc_id", title_field="headline", text_field="body"
    )
    assert record.uri == "n.jsonl#17"
    assert (record.title, record.text) == ("News", "Story.")
    assert dict(record.metadata) == {"id": "not-the-id"}


def test_duplicate_ids_are_record_duplicate_in_strict_iteration() -> None:
    error = record_error(
        container("c.jsonl", jsonl({"id": "a", "text": "1"}, {"id": "a", "text": "2"}))
    )
    assert error.code == "parse.record_duplicate"
    assert "duplicate id 'a'" in str(error)
    assert "line 2" in str(error)


def expanded(item: SourceItem) -> tuple[list[SourceItem], list[RecordFailure]]:
    good: list[SourceItem] = []
    bad: list[RecordFailure] = []
    for result in expand_records(item):
        if isinstance(result, RecordFailure):
            bad.append(result)
        else:
            good.append(result)
    return good, bad


def test_a_bad_record_fails_alone_and_the_first_of_a_repeated_id_is_kept() -> None:
    data = (
        b'{"id": "a", "text": "first a"}\n'
        b'{"id": "b", "text": \n'  # malformed
        b'{"id": "a", "text": "second a"}\n'  # duplicate
        b'[1, 2]\n'  # not an object
        b'{"id": "c", "text": ["x"]}\n'  # text is not a string
        b'{"id": "d", "text": "\xff\xfe"}\n'  # not UTF-8
        b'{"id": "e", "text": "last"}\n'
    )
    item = replace(container("c.jsonl", data), permissions=parse_permissions("group:ops"))
    good, bad = expanded(item)
    assert [(r.uri, r.text) for r in good] == [("c.jsonl#a", "first a"), ("c.jsonl#e", "last")]
    assert [(f.item.uri, f.error.code) for f in bad] == [
        ("c.jsonl#line-2", "parse.record_invalid"),
        ("c.jsonl#a@line-3", "parse.record_duplicate"),
        ("c.jsonl#line-4", "parse.record_invalid"),
        ("c.jsonl#c", "parse.record_invalid"),
        ("c.jsonl#line-6", "parse.encoding"),
    ]
    for failure, line in zip(bad, (2, 3, 4, 5, 6), strict=True):
        assert f"line {line}" in failure.error.message
        assert failure.item.media_type == "application/x-ndjson"
        assert failure.item.permissions == item.permissions  # the container's readers
        assert failure.item.modified_at == MODIFIED
    assert "first at line 1" in bad[1].error.message
    # The digest follows the record's bytes: the same bad line hashes the same.
    _, again = expanded(item)
    assert [f.digest for f in again] == [f.digest for f in bad]
    assert len({f.digest for f in bad}) == len(bad)


def test_corrupt_gzip_after_some_records_fails_the_rest_only() -> None:
    data = gzip.compress(jsonl(*({"id": i, "text": "x" * 50 + str(i)} for i in range(400))),
                         mtime=0)
    good, bad = expanded(container("c.jsonl.gz", data[: len(data) // 2]))
    assert good and len(good) < 400
    [failure] = bad
    assert failure.error.code == "parse.record_invalid"
    assert failure.item.uri == f"c.jsonl.gz#line-{len(good) + 1}"
    assert "gzip" in failure.error.message


def test_json_array_and_csv_bad_elements_fail_alone() -> None:
    data = json.dumps([{"id": "p", "text": "one"}, 7, {"id": "p", "text": "two"}])
    good, bad = expanded(container("a.json", data.encode()))
    assert [r.uri for r in good] == ["a.json#p"]
    assert [(f.item.uri, f.error.code) for f in bad] == [
        ("a.json#record-2", "parse.record_invalid"),
        ("a.json#p@record-3", "parse.record_duplicate"),
    ]
    rows = b"id,title,text\nr1,A,one\nr1,B,two\nr2,C,three\n"
    good, bad = expanded(container("rows.csv", rows))
    assert [r.uri for r in good] == ["rows.csv#r1", "rows.csv#r2"]
    assert [(f.item.uri, f.error.code) for f in bad] == [
        ("rows.csv#r1@row-2", "parse.record_duplicate")]


def test_a_file_of_only_bad_records_is_not_empty() -> None:
    good, bad = expanded(container("c.jsonl", b"{\n{\n"))
    assert good == [] and len(bad) == 2


def test_empty_container_is_empty() -> None:
    assert record_error(container("c.jsonl", b"\n\n")).code == "parse.empty"
    assert record_error(container("c.json", b"[]")).code == "parse.empty"
    assert record_error(container("c.csv", b"")).code == "parse.empty"


def test_json_array_uses_element_numbers() -> None:
    data = json.dumps([{"_id": "p", "text": "first"}, {"title": "Second", "text": "second"}])
    records = list(iter_records(container("a.json", data.encode())))
    assert [(r.uri, r.title) for r in records] == [("a.json#p", None), ("a.json#2", "Second")]


def test_json_that_is_not_a_list_is_record_invalid() -> None:
    assert record_error(container("a.json", b'{"id": 1}')).code == "parse.record_invalid"
    assert record_error(container("a.json", b"[{]")).code == "parse.record_invalid"


def test_csv_with_id_title_text_columns() -> None:
    data = b'id,title,text,lang\nr1,First,"Hello, world",en\nr2,Second,"Line one\nline two",de\n'
    records = list(iter_records(container("rows.csv", data)))
    assert [(r.uri, r.title, r.text, dict(r.metadata)) for r in records] == [
        ("rows.csv#r1", "First", "Hello, world", {"lang": "en"}),
        ("rows.csv#r2", "Second", "Line one\nline two", {"lang": "de"}),
    ]


def test_csv_delimiter_is_sniffed() -> None:
    data = b"id;title;text\n1;Alpha;first body\n2;Beta;second body\n"
    records = list(iter_records(container("semi.csv", data)))
    assert [(r.uri, r.title, r.text) for r in records] == [
        ("semi.csv#1", "Alpha", "first body"),
        ("semi.csv#2", "Beta", "second body"),
    ]


def test_csv_without_text_column_joins_other_columns_and_numbers_rows() -> None:
    data = b"name,city,age\nAda,London,36\nAlan,,41\n"
    records = list(iter_records(container("people.csv", data)))
    assert [r.uri for r in records] == ["people.csv#1", "people.csv#2"]
    assert records[0].text == "name: Ada\ncity: London\nage: 36"
    assert records[1].text == "name: Alan\nage: 41"
    assert records[0].title is None


def test_unsupported_media_type() -> None:
    item = container("notes.txt", b"hello")
    assert record_error(item).code == "parse.unsupported"


def test_title_only_record_is_a_document_whose_text_is_its_title() -> None:
    """E-Manual has sections with a title and no body; they failed with parse.empty, so
    `eval` refused the corpus as incomplete. The title is the findable text."""
    from groundwire.ingest.cleaning import clean_document

    data = jsonl({"id": "tv-9", "title": "Using the Game Mode", "text": "  "},
                 {"id": "tv-10", "title": "", "text": ""})
    titled, untitled = iter_records(container("manual/corpus.jsonl", data))
    assert titled.text == "Using the Game Mode"
    doc = clean_document(parse_text(titled))
    assert "Using the Game Mode" in doc.text
    assert untitled.text == ""  # no title, no body: still empty (parse.empty at ingest)
