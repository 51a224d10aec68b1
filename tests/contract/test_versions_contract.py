"""Contracts of the ``VersionStore`` and ``TuningStore`` ports."""

from __future__ import annotations

import pytest

from groundwire.errors import InvalidRequest, NotFound
from groundwire.stores.base import Store

pytestmark = pytest.mark.integration
CONFIG = {"chunking": {"max_tokens": 200}}


async def _register(store: Store, logical: str, physical: str, state: str = "building") -> int:
    return await store.register_version(logical, physical, dict(CONFIG), f"fp-{physical}",
                                        {"answer.min_support": 0.2}, state=state)


# ---------------------------------------------------------------------- VersionStore
async def test_a_name_without_an_alias_resolves_to_itself(store: Store) -> None:
    assert await store.resolve_index("plain") == "plain"
    assert await store.route_index("plain") == ("plain", None)
    assert await store.alias("plain") is None
    assert await store.list_versions("plain") == []
    with pytest.raises(NotFound):
        await store.get_version("plain", 1)


async def test_register_numbers_versions_and_the_first_creates_the_alias(store: Store) -> None:
    assert await _register(store, "docs", "docs__v1") == 1
    assert await _register(store, "docs", "docs__v2") == 2
    assert await store.resolve_index("docs") == "docs__v1"
    assert "docs__v2" in await store.list_indexes()  # its physical index exists
    rows = await store.list_versions("docs")
    assert [(r["version"], r["physical"], r["state"]) for r in rows] == [
        (1, "docs__v1", "building"), (2, "docs__v2", "building")]
    row = await store.get_version("docs", 2)
    assert (row["fingerprint"], row["config"], row["overrides"]) == (
        "fp-docs__v2", CONFIG, {"answer.min_support": 0.2})


async def test_set_version_state_keeps_the_contract_unless_given(store: Store) -> None:
    await _register(store, "docs", "docs__v1")
    await store.set_version_state("docs", 1, "ready", {"passed": True})
    await store.set_version_state("docs", 1, "failed")
    row = await store.get_version("docs", 1)
    assert (row["state"], row["contract"]) == ("failed", {"passed": True})


async def test_flip_alias_moves_live_and_returns_the_previous_target(store: Store) -> None:
    await _register(store, "docs", "docs__v1", state="ready")
    await _register(store, "docs", "docs__v2", state="ready")
    with pytest.raises(NotFound):
        await store.flip_alias("nothing", "x")
    assert await store.flip_alias("docs", "docs__v1") == "docs__v1"
    assert await store.flip_alias("docs", "docs__v2", expect="docs__v1") == "docs__v1"
    with pytest.raises(InvalidRequest):
        await store.flip_alias("docs", "docs__v1", expect="docs__v1")
    assert await store.resolve_index("docs") == "docs__v2"
    states = {r["version"]: r["state"] for r in await store.list_versions("docs")}
    assert states == {1: "retired", 2: "live"}
    alias = await store.alias("docs")
    assert alias is not None
    assert (alias["physical"], alias["previous"]) == ("docs__v2", "docs__v1")
    physical, version = await store.route_index("docs")
    assert physical == "docs__v2" and version is not None
    assert (version["logical"], version["version"], version["fingerprint"]) == (
        "docs", 2, "fp-docs__v2")


async def test_index_sources_lists_an_index_sources_in_creation_order(store: Store) -> None:
    await store.ensure_source("i", "folder", "/b", tenant="acme")
    await store.ensure_source("i", "folder", "/a")
    await store.ensure_source("j", "folder", "/c")
    rows = await store.index_sources("i")
    assert [(r["kind"], r["location"], r["tenant"]) for r in rows] == [
        ("folder", "/b", "acme"), ("folder", "/a", "default")]
    assert await store.index_sources("none") == []


# ---------------------------------------------------------------------- TuningStore
async def test_index_tuning_is_replaced_listed_and_deleted(store: Store) -> None:
    assert await store.index_tunings() == {}
    await store.save_index_tuning("fresh", {"alpha": 0.3}, {"n": 10}, 4)
    await store.save_index_tuning("fresh", {"alpha": 0.7}, {"n": 20}, 5)
    tunings = await store.index_tunings()
    assert list(tunings) == ["fresh"]
    record = tunings["fresh"]
    assert (record.index, dict(record.params), dict(record.evidence), record.generation) == (
        "fresh", {"alpha": 0.7}, {"n": 20}, 5)
    assert await store.delete_index_tuning("fresh") is True
    assert await store.delete_index_tuning("fresh") is False
    assert await store.index_tunings() == {}
