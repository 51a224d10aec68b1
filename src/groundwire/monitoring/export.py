"""Record export as JSONL or CSV text chunks (one chunk per page of records)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import AsyncIterator, Iterable
from typing import Any

from groundwire.domain.records import AnswerRecord

FORMATS = ("jsonl", "csv")
CSV_COLUMNS = (
    "id", "created_at", "kind", "index", "principal", "question", "answer", "abstained",
    "degraded", "degraded_reason", "answerer", "groundedness", "confidence", "top_score",
    "latency_ms", "provider", "model", "prompt_id", "prompt_hash", "index_generation", "cost",
    "cached", "embedding_model", "passages", "citations", "timings", "usage",
)


def jsonl_lines(records: Iterable[AnswerRecord], *, embedding: bool = False) -> str:
    return "".join(json.dumps(r.as_json(embedding=embedding), ensure_ascii=False,
                              default=str) + "\n" for r in records)


def csv_rows(records: Iterable[AnswerRecord], *, header: bool, embedding: bool = False) -> str:
    """CSV text; nested fields (passages, citations, timings, usage, embedding) as JSON."""
    columns = [*CSV_COLUMNS, "query_embedding"] if embedding else list(CSV_COLUMNS)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    if header:
        writer.writerow(columns)
    for record in records:
        data = record.as_json(embedding=embedding)
        row: list[Any] = []
        for column in columns:
            value = data.get(column)
            if isinstance(value, (dict, list)):
                value = json.dumps(value, ensure_ascii=False, default=str)
            row.append("" if value is None else value)
        writer.writerow(row)
    return buffer.getvalue()


async def export_chunks(
    pages: AsyncIterator[list[AnswerRecord]], fmt: str, *, embedding: bool = False
) -> AsyncIterator[str]:
    if fmt == "csv":
        yield csv_rows([], header=True, embedding=embedding)
    async for page in pages:
        if fmt == "csv":
            yield csv_rows(page, header=False, embedding=embedding)
        else:
            yield jsonl_lines(page, embedding=embedding)
