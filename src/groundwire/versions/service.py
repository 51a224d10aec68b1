"""Versions of a logical index: build beside, check, promote, roll back, shadow.

A *version* is the whole configuration tuple (``engine/config.py``) plus the physical index
built with it. A logical name (what clients send, e.g. ``default``) is an alias of one
physical index (``index_aliases``, migration 0007); the first version of a logical name is the
existing index itself (physical = logical), later ones are ``<logical>.v<N>`` beside it.

* ``build_version``: register ``<logical>.v<N>``, re-ingest every source of the live physical
  index into it with the candidate settings (the live settings plus ``--set`` overrides). The
  live version keeps serving; embeddings are shared by (content hash, model id), so unchanged
  text under an unchanged model is never re-embedded, and going back to a model used before
  embeds nothing.
* ``promote``: run the success contract against the candidate; flip the alias in one
  transaction only when it passes (or ``force``). Readers resolve the alias per request, so a
  request is served wholly by the old or wholly by the new version.
* ``rollback``: flip back to the alias's previous physical index (its rows were never
  touched, so the results are exactly the previous ones).
* ``shadow``: run a sample of recent live questions on both the live and a candidate version
  and report how the top results differ.

Overrides are dotted settings paths with JSON (or bare string) values, e.g.
``chunking.max_tokens=120``, ``embedding.model=fake-48``, ``retrieval.dense_weight=0.7``.
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from groundwire.domain import SearchRequest
from groundwire.engine import EngineFactory, IndexEngine
from groundwire.engine.config import (
    fingerprint,
    serves_itself,
    settings_for_version,
    version_tuple,
)
from groundwire.errors import InvalidRequest, NotFound
from groundwire.settings import RetrievalTuning, Settings
from groundwire.stores.base import Store
from groundwire.versions.router import VersionRouter

__all__ = ["serves_itself", "settings_for_version"]  # re-exported from engine.config


class VersionHost(Protocol):
    """What the version operations use: the process's settings, its store, the engines and
    the router resolving aliases (the application passes itself)."""

    @property
    def settings(self) -> Settings: ...
    @property
    def store(self) -> Store: ...
    @property
    def engines(self) -> EngineFactory: ...
    @property
    def versions(self) -> VersionRouter: ...

QUERY_TIME_PARTS = ("embedding", "retrieval", "reranker", "answer", "prompt", "llm")


def parse_overrides(pairs: list[str] | None) -> dict[str, Any]:
    """``["chunking.max_tokens=20", ...]`` -> ``{"chunking.max_tokens": 20}``."""
    out: dict[str, Any] = {}
    for pair in pairs or []:
        key, sep, raw = pair.partition("=")
        if not sep or not key.strip():
            raise InvalidRequest(f"--set expects KEY=VALUE, got {pair!r}")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out


def apply_overrides(settings: Settings, overrides: dict[str, Any], *, logical: str,
                    physical: str) -> Settings:
    """The candidate settings: ``settings`` with ``overrides`` applied, and the physical index
    given the logical index's retrieval tuning (with any ``retrieval.*`` override) under
    ``retrieval.per_index[physical]``. ConfigurationError-free: invalid values raise
    InvalidRequest naming the key."""
    from pydantic import ValidationError

    data = settings.model_dump()
    for key, value in overrides.items():
        node = data
        parts = key.split(".")
        for part in parts[:-1]:
            if not isinstance(node.get(part), dict):
                raise InvalidRequest(f"unknown setting {key!r}")
            node = node[part]
        if parts[-1] not in node:
            raise InvalidRequest(f"unknown setting {key!r}")
        node[parts[-1]] = value
    tuning = settings.retrieval.for_index(logical).model_dump()
    for key, value in overrides.items():
        field = key.removeprefix("retrieval.")
        if key.startswith("retrieval.") and field in RetrievalTuning.model_fields:
            tuning[field] = value
    data["retrieval"]["per_index"] = {**data["retrieval"]["per_index"], physical: tuning}
    try:
        return type(settings)(**data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                             for e in exc.errors())
        raise InvalidRequest(f"invalid override: {problems}") from exc


def physical_name(logical: str, version: int) -> str:
    suffix = f".v{version}"
    return logical[: 64 - len(suffix)] + suffix


async def live_target(gw: VersionHost, logical: str) -> tuple[str, IndexEngine, str | None]:
    """(physical index, the engine serving it, version label or None) of ``logical`` now:
    what ``eval --contract`` checks."""
    physical, serving = await gw.versions.resolve(logical)
    rows = await gw.store.list_versions(logical)
    row = next((r for r in rows if r["physical"] == physical), None)
    if row is None:  # not versioned yet: the index itself becomes v1 when versions are used
        return physical, serving, (f"{logical}@v1" if not rows and physical == logical
                                   else None)
    return physical, serving, f"{logical}@v{row['version']}"


async def ensure_first_version(gw: VersionHost, logical: str) -> dict[str, Any]:
    """Register the existing index as version 1 (live) the first time versions are used."""
    store = gw.store
    versions = await store.list_versions(logical)
    if versions:
        return versions[0]
    if logical not in await store.list_indexes():
        raise NotFound(f"no index named {logical!r}")
    config = version_tuple(gw.settings, logical)
    await store.register_version(logical, logical, config, fingerprint(config), {},
                                 state="live")
    return (await store.list_versions(logical))[0]


async def build_version(
    gw: VersionHost, logical: str, overrides: dict[str, Any], *, progress: Any = None,
) -> dict[str, Any]:
    """Build the next version of ``logical`` beside the live one; returns its row plus the
    ingest reports. The live version keeps serving throughout."""
    store = gw.store
    await ensure_first_version(gw, logical)
    live = await store.resolve_index(logical)
    sources = await store.index_sources(live)
    unsupported = sorted({s["kind"] for s in sources} - {"folder"})
    if unsupported:
        raise InvalidRequest(f"cannot rebuild sources of kind {unsupported} (only folders)")
    if not sources:
        raise InvalidRequest(f"index {logical!r} has no sources to rebuild from")
    number = len(await store.list_versions(logical)) + 1
    physical = physical_name(logical, number)
    if physical in await store.list_indexes():
        raise InvalidRequest(f"an index named {physical!r} already exists outside the versions "
                             f"of {logical!r}; rename or delete it first")
    settings = apply_overrides(gw.settings, overrides, logical=logical, physical=physical)
    config = version_tuple(settings, physical)
    number = await store.register_version(logical, physical, config, fingerprint(config),
                                          overrides)
    reports = []
    engine = gw.engines.build(settings)  # the candidate's own machinery, for this build only
    try:
        for source in sources:
            report = await engine.ingest_path(source["location"], index=physical,
                                              tenant=source.get("tenant"), progress=progress)
            reports.append({"source": source["location"], **report.as_json()})
    except BaseException:
        await store.set_version_state(logical, number, "failed")
        raise
    finally:
        await engine.aclose()
    await store.set_version_state(logical, number, "ready")
    row = await store.get_version(logical, number)
    return {**_row_json(row), "ingest": reports}


async def version_settings(gw: VersionHost, row: dict[str, Any]) -> Settings:
    """The settings a version runs with (``settings_for_version``)."""
    if serves_itself(gw.settings, row):
        return gw.settings
    return settings_for_version(gw.settings, row)


async def check_version(gw: VersionHost, row: dict[str, Any], *, progress: Any = None
                        ) -> dict[str, Any]:
    """The success contract run against one version (its physical index and settings)."""
    from groundwire.quality.contract import run_contract

    settings = await version_settings(gw, row)
    label = f"{row['logical']}@v{row['version']}"
    engine = await gw.versions.engine_for(row)
    return await run_contract(engine, index=row["physical"], label=label, settings=settings,
                              progress=progress)


async def promote(gw: VersionHost, logical: str, version: int | None = None, *,
                  force: bool = False, progress: Any = None) -> dict[str, Any]:
    """Check the contract on the candidate and flip the alias when it passes (or ``force``).
    Returns ``{promoted, version, physical, previous, report}``; never flips on a miss
    without ``force``."""
    store = gw.store
    rows = await store.list_versions(logical)
    if not rows:
        raise NotFound(f"index {logical!r} has no versions: run `versions build` first")
    live = await store.resolve_index(logical)
    if version is None:
        ready = [r for r in rows if r["state"] == "ready"]
        if not ready:
            raise NotFound(f"index {logical!r} has no ready candidate version")
        row = ready[-1]
    else:
        found = next((r for r in rows if r["version"] == version), None)
        if found is None:
            raise NotFound(f"no version {version} of index {logical!r}")
        row = found
    if row["state"] in ("building", "failed"):
        raise InvalidRequest(f"version {row['version']} is {row['state']}, not ready")
    if row["physical"] == live:
        raise InvalidRequest(f"version {row['version']} is already live")
    report = await check_version(gw, row, progress=progress)
    await store.set_version_state(logical, row["version"], row["state"],
                                  contract={"id": report["id"], "passed": report["passed"]})
    result = {"promoted": False, "version": row["version"], "physical": row["physical"],
              "previous": live, "forced": False, "report": report}
    if report["passed"] or force:
        await store.flip_alias(logical, row["physical"], expect=live)
        result.update(promoted=True, forced=not report["passed"])
    return result


async def rollback(gw: VersionHost, logical: str) -> dict[str, Any]:
    """Point ``logical`` back at its previous physical index (one transaction)."""
    store = gw.store
    alias = await store.alias(logical)
    if alias is None or not alias["previous"]:
        raise NotFound(f"index {logical!r} has no previous version to roll back to")
    was = await store.flip_alias(logical, alias["previous"], expect=alias["physical"])
    return {"logical": logical, "physical": alias["previous"], "rolled_back_from": was}


async def list_versions(gw: VersionHost, logical: str) -> dict[str, Any]:
    store = gw.store
    alias = await store.alias(logical)
    rows = await store.list_versions(logical)
    out = []
    for row in rows:
        item = _row_json(row)
        try:
            stats = await store.stats(row["physical"])
            item["chunks"] = stats.chunks
            item["documents"] = dict(stats.documents_by_state)
        except NotFound:
            pass
        out.append(item)
    return {"logical": logical, "live": alias["physical"] if alias else logical,
            "previous": alias["previous"] if alias else None, "versions": out}


async def shadow(gw: VersionHost, logical: str, version: int | None = None, *,
                 sample: int = 50, k: int = 10) -> dict[str, Any]:
    """Run up to ``sample`` recent live questions (answer records of ``logical``) on the live
    version and on a candidate; report the overlap of their top-``k`` documents."""
    store = gw.store
    rows = await store.list_versions(logical)
    live = await store.resolve_index(logical)
    candidates = [r for r in rows if r["physical"] != live and
                  (version is None or r["version"] == version)]
    if not candidates:
        raise NotFound(f"index {logical!r} has no candidate version to shadow")
    row = candidates[-1]
    records = await store.list_records(index=logical, limit=10_000)
    questions = list(dict.fromkeys(r.question for r in reversed(records)))[:sample]
    live_row = next((r for r in rows if r["physical"] == live), None)
    cand = await gw.versions.engine_for(row)
    cur = await gw.versions.engine_for(live_row) if live_row else gw.engines.default
    diffs: list[dict[str, Any]] = []
    for q in questions:
        a = (await cur.retrieve(SearchRequest(query=q, index=live, top_k=k))).hits
        b = (await cand.retrieve(SearchRequest(query=q, index=row["physical"], top_k=k))).hits
        da = list(dict.fromkeys(h.uri for h in a))
        db = list(dict.fromkeys(h.uri for h in b))
        overlap = len(set(da) & set(db)) / max(len(set(da) | set(db)), 1)
        diffs.append({"question": q, "same_top1": bool(da and db and da[0] == db[0]),
                      "overlap": round(overlap, 4), "live": da[:3], "candidate": db[:3]})
    n = len(diffs)
    return {
        "logical": logical, "live": live, "candidate": row["physical"],
        "version": row["version"], "questions": n,
        "same_top1_rate": round(sum(d["same_top1"] for d in diffs) / n, 4) if n else None,
        "mean_overlap": round(sum(d["overlap"] for d in diffs) / n, 4) if n else None,
        "differences": [d for d in diffs if not d["same_top1"] or d["overlap"] < 1.0],
    }


def _row_json(row: dict[str, Any]) -> dict[str, Any]:
    return {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in row.items()}
