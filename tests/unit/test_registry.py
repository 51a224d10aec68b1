"""Plug-in registries: built-ins are found as entry points (like any third-party plug-in),
unknown names are configuration errors, nothing is loaded at import time."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Iterator
from importlib.metadata import EntryPoint
from typing import Any

import pytest

from groundwire import registry
from groundwire.errors import ConfigurationError
from groundwire.registry import Registry

BUILTINS = {
    "groundwire.parsers": [
        "application/pdf",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "image/bmp", "image/gif", "image/jpeg", "image/png", "image/tiff", "image/webp",
        "text/html", "text/markdown", "text/plain",
    ],
    "groundwire.embedders": ["fake", "onnx", "onnx-fp32", "sentence-transformers"],
    "groundwire.connectors": ["confluence", "folder", "git", "s3", "sql", "web", "zendesk"],
    "groundwire.llm_providers": ["openai"],
    "groundwire.answerers": ["extractive"],
    "groundwire.stores": ["postgres"],
}


@pytest.fixture
def fresh() -> Iterator[None]:
    """Every registry re-reads its entry points before and after the test."""
    for reg in registry.ALL:
        reg.reload()
    yield
    for reg in registry.ALL:
        reg.reload()


def test_every_group_lists_its_builtins() -> None:
    assert {reg.group: reg.names() for reg in registry.ALL} == BUILTINS


@pytest.mark.parametrize(
    ("reg", "name"),
    [(reg, name) for reg in registry.ALL for name in BUILTINS[reg.group]],
    ids=lambda v: v.group if isinstance(v, Registry) else v,
)
def test_each_builtin_resolves_through_its_entry_point(reg: Registry[Any], name: str) -> None:
    factory = reg.get(name)
    assert callable(factory)
    assert name in reg
    assert reg.get(name) is factory  # loaded once, cached


def test_builtin_entry_points_are_the_builtin_tables() -> None:
    """pyproject.toml's entry points and the in-code tables list the same callables."""
    from groundwire.embedding import factories as embedding
    from groundwire.ingest.parsers import BUILTIN_PARSERS

    assert registry.parsers() == BUILTIN_PARSERS
    assert registry.embedders() == embedding.BUILTIN_EMBEDDERS


def test_builtin_factories_are_the_named_functions() -> None:
    from groundwire.answering import factories as answering
    from groundwire.ingest.connectors import folder
    from groundwire.llm import factories as llm
    from groundwire.stores import factories as store_factories

    assert registry.connectors().get("folder") is folder.from_options
    assert registry.llm_providers().get("openai") is llm.openai
    assert registry.answerers().get("extractive") is answering.extractive
    assert registry.stores().get("postgres") is store_factories.postgres


def test_unknown_name_is_a_configuration_error_listing_the_known_ones() -> None:
    with pytest.raises(ConfigurationError) as info:
        registry.llm_providers().get("anthropic")
    message = str(info.value)
    assert "'anthropic'" in message
    assert "groundwire.llm_providers" in message
    assert "known: openai" in message
    assert info.value.code == "config.invalid"

    with pytest.raises(ConfigurationError,
                       match=r"known: fake, onnx, onnx-fp32, sentence-transformers"):
        registry.EMBEDDERS.get("nope")


def test_a_registered_plugin_is_found_and_can_be_removed() -> None:
    def make(options: Any, settings: Any) -> str:
        return "connector"

    connectors = registry.connectors()
    connectors.register("test-source", make)
    try:
        assert connectors.get("test-source") is make
        assert "test-source" in connectors.names()
        assert "folder" in connectors.names()  # the built-ins stay
    finally:
        connectors.unregister("test-source")
    assert "test-source" not in connectors.names()
    with pytest.raises(ConfigurationError):
        connectors.get("test-source")


def _with_extra_points(monkeypatch: pytest.MonkeyPatch, *extra: EntryPoint) -> None:
    real = registry.entry_points

    def points(*, group: str) -> list[EntryPoint]:
        return [*real(group=group), *(p for p in extra if p.group == group)]

    monkeypatch.setattr(registry, "entry_points", points)


def test_a_third_party_entry_point_is_found(
    monkeypatch: pytest.MonkeyPatch, fresh: None
) -> None:
    _with_extra_points(monkeypatch, EntryPoint(
        "sharepoint", "os.path:basename", "groundwire.connectors"))
    import os.path

    names = registry.connectors().names()
    assert names == sorted([*BUILTINS["groundwire.connectors"], "sharepoint"])
    assert registry.connectors().get("sharepoint") is os.path.basename


def test_a_third_party_entry_point_replaces_a_builtin_of_the_same_name(
    monkeypatch: pytest.MonkeyPatch, fresh: None
) -> None:
    _with_extra_points(monkeypatch, EntryPoint(
        "text/markdown", "os.path:basename", "groundwire.parsers"))
    import os.path

    table = registry.parsers()
    assert table["text/markdown"] is os.path.basename
    assert table["text/plain"].__name__ == "parse_text"  # the other built-ins stay


def test_a_broken_plugin_fails_only_when_selected(
    monkeypatch: pytest.MonkeyPatch, fresh: None
) -> None:
    _with_extra_points(monkeypatch, EntryPoint(
        "broken", "groundwire_no_such_module:factory", "groundwire.stores"))
    stores = registry.stores()
    assert stores.names() == ["broken", "postgres"]
    assert callable(stores.get("postgres"))
    with pytest.raises(ConfigurationError, match=r"store 'broken' .*failed to load"):
        stores.get("broken")


def test_entry_points_are_not_read_or_loaded_at_import_time() -> None:
    probe = """
import sys
import groundwire.registry as r
assert all(reg._entry_points is None and not reg._loaded for reg in r.ALL), "discovered"
loaded = sorted(m for m in sys.modules if m.startswith((
    "groundwire.ingest", "groundwire.embedding", "groundwire.llm", "groundwire.answering",
    "groundwire.stores", "groundwire.stores.factories", "groundwire.settings")))
assert not loaded, loaded
r.connectors().names()  # discovery alone imports no plug-in either
loaded = sorted(m for m in sys.modules if m.startswith(("groundwire.ingest",
    "groundwire.stores", "groundwire.stores.factories")))
assert not loaded, loaded
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "ok"


def test_answerer_factory_builds_the_extractive_answerer() -> None:
    from groundwire.answering.extractive import ExtractiveAnswerer
    from groundwire.embedding.fake import FakeEmbedder
    from groundwire.settings import AnswerSettings

    settings = AnswerSettings(passages=7, max_sentences=2, min_support=0.5)
    answerer = registry.answerers().get("extractive")(FakeEmbedder(), settings)
    assert isinstance(answerer, ExtractiveAnswerer)
    assert answerer.name == "extractive"
    assert (answerer._passages, answerer._max_sentences, answerer._min_support) == (7, 2, 0.5)


def test_llm_provider_factory_builds_the_openai_compatible_provider() -> None:
    from groundwire.llm.provider import OpenAICompatibleProvider
    from groundwire.settings import ProviderSettings

    settings = ProviderSettings(name="local", base_url="http://127.0.0.1:9/v1", model="m")
    provider = registry.llm_providers().get("openai")(settings, max_response_bytes=1234)
    try:
        assert isinstance(provider, OpenAICompatibleProvider)
        assert (provider.name, provider.model, provider._max_bytes) == ("local", "m", 1234)
    finally:
        asyncio.run(provider.aclose())


def test_store_factory_builds_the_postgres_store_without_io(clean_settings_env: None) -> None:
    from groundwire.settings import Settings
    from groundwire.stores.postgres.store import PostgresStore

    settings = Settings(database_url="postgresql://u@127.0.0.1:9/none",
                        database={"pool_max": 3})
    store = registry.stores().get("postgres")(settings)
    assert isinstance(store, PostgresStore)
