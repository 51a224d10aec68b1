"""Version overrides and the configuration tuple (pure, no database)."""

from __future__ import annotations

import pytest

from groundwire.engine.config import fingerprint, version_tuple
from groundwire.errors import InvalidRequest
from groundwire.settings import Settings
from groundwire.versions.service import apply_overrides, parse_overrides, physical_name


def test_parse_overrides_reads_json_values_and_bare_strings() -> None:
    assert parse_overrides(["chunking.max_tokens=20", "embedding.model=fake-48",
                            "retrieval.fusion=\"rrf\"", "answer.min_support=0.5"]) == {
        "chunking.max_tokens": 20, "embedding.model": "fake-48", "retrieval.fusion": "rrf",
        "answer.min_support": 0.5}
    with pytest.raises(InvalidRequest):
        parse_overrides(["chunking.max_tokens"])


def test_apply_overrides_keeps_the_logical_tuning_for_the_physical_index() -> None:
    live = Settings(retrieval={"per_index": {"docs": {"dense_weight": 0.2, "fusion": "rrf"}}})
    cand = apply_overrides(live, {"chunking.max_tokens": 120, "retrieval.dense_weight": 0.7},
                           logical="docs", physical="docs.v2")
    assert cand.chunking.max_tokens == 120
    tuned = cand.retrieval.for_index("docs.v2")
    assert tuned.dense_weight == 0.7 and tuned.fusion == "rrf"  # override on the logical tuning
    assert live.retrieval.for_index("docs.v2").dense_weight == 0.5  # live settings untouched
    assert fingerprint(version_tuple(cand, "docs.v2")) != fingerprint(version_tuple(live, "docs"))
    same = apply_overrides(live, {}, logical="docs", physical="docs.v3")
    assert version_tuple(same, "docs.v3") == version_tuple(live, "docs")


@pytest.mark.parametrize("overrides", [{"chunking.nope": 1}, {"nosection.x": 1},
                                       {"chunking.max_tokens": 10}])
def test_apply_overrides_rejects_unknown_or_invalid_settings(overrides: dict) -> None:
    with pytest.raises(InvalidRequest):
        apply_overrides(Settings(), overrides, logical="d", physical="d.v2")


def test_physical_names_fit_the_index_name_limit() -> None:
    assert physical_name("docs", 3) == "docs.v3"
    assert len(physical_name("x" * 64, 12)) == 64


def test_a_version_keeps_its_tuple_when_the_settings_file_changes() -> None:
    from groundwire.versions.service import serves_itself, settings_for_version

    built_with = apply_overrides(Settings(), {"chunking.max_tokens": 120,
                                              "embedding.model": "fake-48"},
                                 logical="d", physical="d.v2")
    config = version_tuple(built_with, "d.v2")
    row = {"logical": "d", "physical": "d.v2", "config": config,
           "fingerprint": fingerprint(config)}
    edited = Settings(chunking={"max_tokens": 64, "overlap_tokens": 8},
                      retrieval={"dense_weight": 0.9})
    assert not serves_itself(edited, row) and serves_itself(built_with, row)
    served = settings_for_version(edited, row)
    assert version_tuple(served, "d.v2") == config
    assert served.embedding.model == "fake-48" and served.chunking.max_tokens == 120
