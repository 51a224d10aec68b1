"""What a *version* is: the whole tuple of settings that changes what a question gets back.

``version_tuple(settings, index)`` is plain JSON data: parser/chunker settings (with the ingest
pipeline version), embedding model, retrieval tuning (fusion weights) of the index, reranker,
answer settings, prompt id and LLM models. ``fingerprint`` hashes it; two configurations with
the same fingerprint answer the same way over the same sources. Pure functions, no I/O.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from groundwire.settings import Settings


def version_tuple(settings: Settings, index: str) -> dict[str, Any]:
    """The configuration tuple of ``index`` under ``settings`` (JSON-serialisable)."""
    from groundwire.ingest.pipeline import PIPELINE_VERSION

    return {
        "pipeline": PIPELINE_VERSION,
        "chunking": settings.chunking.model_dump(mode="json"),
        "ingest": {
            "record_id_field": settings.ingest.record_id_field,
            "record_title_field": settings.ingest.record_title_field,
            "record_text_field": settings.ingest.record_text_field,
        },
        "embedding": {
            "provider": settings.embedding.provider,
            "model": settings.embedding.model,
            "max_seq_tokens": settings.embedding.max_seq_tokens,
        },
        "retrieval": settings.retrieval.for_index(index).model_dump(mode="json"),
        "reranker": None,  # no reranker stage exists yet; recorded so the tuple is complete
        "answer": settings.answer.model_dump(mode="json"),
        "prompt": settings.llm.prompt,
        "llm": [{"name": p.name, "model": p.model} for p in settings.llm.providers],
    }


def fingerprint(config: dict[str, Any]) -> str:
    """A short stable hash of a version tuple."""
    text = json.dumps(config, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def settings_for_version(settings: Settings, row: dict[str, Any]) -> Settings:
    """The settings that serve a version: the current settings with the version's recorded
    tuple laid over them (chunking, record fields, embedding, retrieval tuning of its physical
    index, answer settings, prompt, LLM model per provider name), so a version keeps the
    configuration it was built and checked with even after groundwire.toml changes. Provider
    endpoints and keys always come from the current settings."""
    config = row["config"]
    data = settings.model_dump()
    data["chunking"] = dict(config["chunking"])
    data["ingest"].update(config["ingest"])
    data["embedding"].update(config["embedding"])
    data["answer"] = dict(config["answer"])
    data["llm"]["prompt"] = config["prompt"]
    models = {p["name"]: p["model"] for p in config["llm"]}
    for provider in data["llm"]["providers"]:
        provider["model"] = models.get(provider["name"], provider["model"])
    data["retrieval"]["per_index"] = {**data["retrieval"]["per_index"],
                                      row["physical"]: dict(config["retrieval"])}
    return type(settings)(**data)


def serves_itself(settings: Settings, row: dict[str, Any]) -> bool:
    """Whether ``settings`` already give the version's tuple for its physical index (then the
    app serves it directly, no view)."""
    return fingerprint(version_tuple(settings, row["physical"])) == row["fingerprint"]
