from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import BaseModel

from groundwire.errors import ConfigurationError
from groundwire.settings import Settings, load_settings, masked


@pytest.fixture(autouse=True)
def _clean_env(clean_settings_env: None) -> None:
    """Every test here starts from no GROUNDWIRE_* variables and no config file."""


def test_env_overrides_nested_sections(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDWIRE_RETRIEVAL__DENSE_WEIGHT", "0.3")
    monkeypatch.setenv("GROUNDWIRE_DATA_DIR", "/srv/gw")
    s = load_settings()
    assert s.retrieval.dense_weight == 0.3
    assert s.data_dir == Path("/srv/gw")


def test_toml_file_is_read_and_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "groundwire.toml").write_text(
        "[retrieval]\ndense_weight = 0.7\nfusion = 'rrf'\n[chunking]\nmax_tokens = 128\n"
    )
    monkeypatch.setenv("GROUNDWIRE_RETRIEVAL__DENSE_WEIGHT", "0.2")
    s = load_settings()
    assert s.retrieval.fusion == "rrf"
    assert s.retrieval.dense_weight == 0.2
    assert s.chunking.max_tokens == 128
    assert s.config_file == (tmp_path / "groundwire.toml").resolve()


def test_per_index_tuning_overrides_defaults(tmp_path: Path) -> None:
    (tmp_path / "groundwire.toml").write_text(
        "[retrieval.per_index.scifact]\nfusion = 'rrf'\ndense_weight = 0.4\nrrf_k = 10\n"
    )
    s = load_settings()
    assert s.retrieval.for_index("scifact").fusion == "rrf"
    assert s.retrieval.for_index("scifact").rrf_k == 10
    assert s.retrieval.for_index("other").fusion == s.retrieval.fusion


def test_invalid_setting_names_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GROUNDWIRE_CHUNKING__MAX_TOKENS", "-5")
    with pytest.raises(ConfigurationError, match="chunking.max_tokens"):
        load_settings()


def test_chunks_must_fit_the_embedder_window() -> None:
    with pytest.raises(ConfigurationError, match="max_seq_tokens"):
        load_settings(chunking={"max_tokens": 512})


def test_missing_explicit_config_file_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="not found"):
        load_settings(tmp_path / "nope.toml")


def test_unknown_keys_are_rejected(tmp_path: Path) -> None:
    (tmp_path / "groundwire.toml").write_text("[retrieval]\ndense_wieght = 0.7\n")
    with pytest.raises(ConfigurationError, match="dense_wieght"):
        load_settings()


def test_database_url_is_masked() -> None:
    s = load_settings(database_url="postgresql://app:hunter2@db.internal:5432/gw")
    shown = json.dumps(masked(s))
    assert "hunter2" not in shown
    assert "db.internal" in shown
    assert "hunter2" not in repr(s)


def _undocumented(model: type[BaseModel], prefix: str = "") -> list[str]:
    missing = []
    for name, field in model.model_fields.items():
        annotation = field.annotation
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            missing += _undocumented(annotation, f"{prefix}{name}.")
        elif not field.description:
            missing.append(prefix + name)
    return missing


def test_every_setting_has_a_description() -> None:
    assert _undocumented(Settings) == []


def test_configuration_reference_is_current() -> None:
    from groundwire.settings import reference_markdown

    reference = (Path(__file__).parents[2] / "docs" / "configuration.md").read_text()
    assert reference == reference_markdown(), (
        "docs/configuration.md is stale: run `groundwire config docs > docs/configuration.md`"
    )
