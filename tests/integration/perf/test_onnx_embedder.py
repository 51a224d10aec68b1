"""The ONNX Runtime embedder on the real packaged model: one int8 export per module into a
temporary cache, compared with the sentence-transformers (torch) encoder it replaces.

The export (torch trace + quantisation) takes 15-40 s on a shared 2-core box, so every test
that needs it is marked ``slow``; the registration test is not."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

pytestmark = pytest.mark.integration

TEXTS = [
    "how do I install quillmate on linux",
    "Annual subscriptions can be cancelled within 30 days of purchase for a full refund.",
    "All notes are encrypted at rest with AES-256-GCM. " * 30,  # longer than the window
]


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("onnx-cache")


@pytest.fixture(scope="module")
def int8(cache_dir: Path) -> Any:
    from groundwire.embedding.onnx import OnnxEmbedder

    embedder = OnnxEmbedder("all-MiniLM-L6-v2", cache_dir=cache_dir, quantization="int8")
    embedder.encode_query("load")  # exports once (needs torch), then loads the session
    return embedder


@pytest.mark.slow
def test_model_id_names_runtime_and_quantisation(int8: Any) -> None:
    assert int8.model_id == "all-MiniLM-L6-v2@onnx-int8"
    assert int8.dimension == 384


@pytest.mark.slow
def test_vectors_are_normalised_and_close_to_torch(int8: Any, real_embedder: Any) -> None:
    ours = int8.encode_passages(TEXTS)
    theirs = real_embedder.encode_passages(TEXTS)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-4)
    cosines = (ours * theirs).sum(axis=1)
    assert cosines.min() > 0.97, cosines  # int8: close to, not equal to, fp32
    # Unrelated texts stay apart, as with torch.
    assert float(ours[0] @ ours[1]) < 0.6


@pytest.mark.slow
def test_same_text_same_vector_whatever_the_batch(int8: Any) -> None:
    alone = int8.encode_query(TEXTS[1])
    batched = int8.encode_passages([TEXTS[2], TEXTS[1], TEXTS[0]])
    assert np.array_equal(alone, batched[1])
    assert np.array_equal(int8.encode_queries(TEXTS), int8.encode_passages(TEXTS))


@pytest.mark.slow
def test_token_counts_match_the_model_tokenizer(int8: Any, real_embedder: Any) -> None:
    for text in TEXTS:
        assert int8.count_tokens(text) == real_embedder.count_tokens(text)


@pytest.mark.slow
def test_cached_export_has_checksum_and_serves_without_torch(int8: Any, cache_dir: Path) -> None:
    files = list(cache_dir.glob("*/model-int8.onnx"))
    assert len(files) == 1
    checksum = files[0].with_name("model-int8.onnx.sha256")
    assert checksum.read_text().strip() and checksum.stat().st_size == 65
    # A fresh process where torch, transformers and sentence-transformers cannot be imported
    # loads the cached file and encodes the same vector.
    script = (
        "import sys\n"
        "for m in ('torch', 'transformers', 'sentence_transformers'): sys.modules[m] = None\n"
        "from pathlib import Path\n"
        "from groundwire.embedding.onnx import OnnxEmbedder\n"
        f"e = OnnxEmbedder('all-MiniLM-L6-v2', cache_dir=Path({str(cache_dir)!r}))\n"
        f"sys.stdout.write(e.encode_query({TEXTS[0]!r}).tobytes().hex())\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    vector = np.frombuffer(bytes.fromhex(done.stdout), dtype=np.float32)
    assert np.array_equal(vector, int8.encode_query(TEXTS[0]))


def test_registered_as_embedding_provider_onnx() -> None:
    from groundwire.embedding.onnx import OnnxEmbedder
    from groundwire.registry import embedders
    from groundwire.settings import EmbeddingSettings

    built = embedders()["onnx"](EmbeddingSettings(provider="onnx"))
    assert isinstance(built, OnnxEmbedder)  # built without loading anything
    assert built.model_id == "all-MiniLM-L6-v2@onnx-int8"
    assert embedders()["onnx-fp32"](EmbeddingSettings()).model_id.endswith("@onnx-fp32")


@pytest.mark.slow
def test_a_tampered_cache_file_is_exported_again(int8: Any, cache_dir: Path) -> None:
    from groundwire.embedding.onnx import OnnxEmbedder

    (file,) = cache_dir.glob("*/model-int8.onnx")
    with file.open("r+b") as handle:
        handle.seek(1000)
        handle.write(b"\x00" * 64)
    fresh = OnnxEmbedder("all-MiniLM-L6-v2", cache_dir=cache_dir, quantization="int8")
    assert np.array_equal(fresh.encode_query(TEXTS[0]), int8.encode_query(TEXTS[0]))


def test_cache_path_follows_the_weights_and_checksum_guards_the_file(tmp_path: Path) -> None:
    from groundwire.embedding.onnx import _atomic_place, _valid, cached_model_file

    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights v1")
    first = cached_model_file(model, tmp_path / "cache", "int8")
    assert first == cached_model_file(model, tmp_path / "cache", "int8")  # stable
    assert first.name == "model-int8.onnx"
    assert cached_model_file(model, tmp_path / "cache", "fp32") != first
    (model / "model.safetensors").write_bytes(b"weights v2")
    assert cached_model_file(model, tmp_path / "cache", "int8").parent != first.parent

    built = tmp_path / "built.onnx"
    built.write_bytes(b"an exported graph")
    assert not _valid(first)
    _atomic_place(built, first)
    assert _valid(first) and not built.exists()
    first.write_bytes(b"an exported grapH")  # torn or tampered
    assert not _valid(first)
