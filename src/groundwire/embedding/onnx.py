"""ONNX Runtime embedder (``embedding.provider = "onnx"``): serving needs no torch.

The packaged sentence-transformers MiniLM (or ``embedding.model_path``) is exported once to
ONNX with mean pooling and L2 normalisation *inside* the graph, then (by default) quantised
to int8 with dynamic per-channel weight quantisation
(``onnxruntime.quantization.quantize_dynamic``). Tokenisation uses ``tokenizers`` on the
model's own ``tokenizer.json``, so the token ids equal the sentence-transformers ones.

Contract:

* ``model_id`` is ``<model>@onnx-<quantization>`` (e.g. ``all-MiniLM-L6-v2@onnx-int8``): vectors
  of different encoders are never mixed under one id (changing provider or quantisation
  re-embeds, as a model change does).
* The exported file is cached as ``<cache_dir>/<model dir name>-<weights sha256[:16]>/
  model-<quantization>.onnx`` next to a ``.sha256`` file. A file whose checksum does not
  match (torn write, tampering) is exported again; a write is atomic (temp file + rename).
* Exporting needs torch (``export_model``; ``groundwire embedder export`` at install or
  image build time); loading and encoding need only ``onnxruntime``, ``tokenizers`` and
  numpy. An export also writes the model's ``tokenizer.json`` and an ``export.json`` manifest
  next to the file, so the folder is self-contained: without ``embedding.model_path`` and
  without the bundled model package (a plain install, no ``groundwire[torch]``), the embedder
  serves from the newest such folder for its model (``model_files.find_prepared_export``).
  Without a cached file and without torch, loading is a ``ConfigurationError`` naming both.
* int8 encodes one text per session run (its activation scales are per run, so batching
  would make a vector depend on its neighbours); fp32 batches ``batch_size`` texts.
* Query encodes run with ``query_threads`` intra-op threads, ingest encodes with
  ``ingest_threads`` (0: all cores), each on its own session, loaded on first use.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
import threading
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from groundwire.embedding.base import Vectors
from groundwire.embedding.model_files import (
    MANIFEST,
    TORCH_EXTRA_HINT,
    bundled_model_installed,
    bundled_model_path,
    default_cache_dir,
    find_prepared_export,
    read_manifest,
)
from groundwire.errors import ConfigurationError, EmbeddingError

__all__ = ["OnnxEmbedder", "cached_model_file", "default_cache_dir", "export_model",
           "model_id_for"]

Quantization = Literal["int8", "fp32"]
EXPORT_FORMAT = 1  # bump when the exported graph changes: old cache files are not reused
_OPSET = 17


def model_id_for(model: str, quantization: Quantization) -> str:
    return f"{model}@onnx-{quantization}"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _weights_fingerprint(model_path: Path) -> str:
    files = sorted(model_path.glob("*.safetensors")) or sorted(model_path.glob("*.bin"))
    if not files:
        raise ConfigurationError(f"no model weights (*.safetensors, *.bin) in {model_path}")
    digest = hashlib.sha256(f"format={EXPORT_FORMAT}".encode())
    for file in files:
        digest.update(_sha256(file).encode())
    return digest.hexdigest()[:16]


def cached_model_file(model_path: Path, cache_dir: Path, quantization: Quantization) -> Path:
    """Where the export of ``model_path`` at ``quantization`` lives (it may not exist yet)."""
    folder = cache_dir / f"{model_path.name}-{_weights_fingerprint(model_path)}"
    return folder / f"model-{quantization}.onnx"


def _valid(file: Path) -> bool:
    checksum = file.with_name(file.name + ".sha256")
    if not file.is_file() or not checksum.is_file():
        return False
    return checksum.read_text().strip() == _sha256(file)


def _atomic_place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(source, target)
    tmp = target.with_name(target.name + ".sha256.tmp")
    tmp.write_text(_sha256(target) + "\n")
    os.replace(tmp, target.with_name(target.name + ".sha256"))


def _write_manifest(folder: Path, model_path: Path, model_name: str,
                    quantization: Quantization) -> None:
    """Make ``folder`` self-contained: the tokenizer and ``export.json`` (atomic writes under
    unique temporary names, so concurrent processes exporting the same model do not collide)."""
    import json

    def place(target: Path, data: bytes) -> None:
        handle, tmp = tempfile.mkstemp(dir=folder, prefix=target.name + ".", suffix=".tmp")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(tmp, target)

    tokenizer = folder / "tokenizer.json"
    if not tokenizer.is_file():
        place(tokenizer, (model_path / "tokenizer.json").read_bytes())
    manifest = read_manifest(folder) or {}
    quantizations = sorted(set(manifest.get("quantizations", [])) | {quantization})
    if manifest.get("model") == model_name and manifest.get("quantizations") == quantizations:
        return
    data = {"model": model_name, "format": EXPORT_FORMAT, "quantizations": quantizations,
            "source": model_path.name}
    place(folder / MANIFEST, (json.dumps(data, indent=2) + "\n").encode())


def export_model(model_path: Path, cache_dir: Path, quantization: Quantization = "int8",
                 *, max_tokens: int = 256, model_name: str | None = None) -> Path:
    """Export ``model_path`` (a sentence-transformers transformer + mean pooling + normalise
    model) to ONNX under ``cache_dir`` and return the file; reuses a valid cached file.
    With ``model_name`` (the ``embedding.model`` id), also writes the tokenizer and the
    manifest that let a torch-free install serve from the folder alone. Needs torch and
    transformers (install time), never called per request."""
    target = cached_model_file(model_path, cache_dir, quantization)
    if _valid(target):
        if model_name is not None:
            # Only a model-package-less server needs the manifest: a read-only cache serves.
            with contextlib.suppress(OSError):
                _write_manifest(target.parent, model_path, model_name, quantization)
        return target
    try:
        import torch
        from transformers import AutoModel
    except ImportError as exc:
        raise ConfigurationError(
            "exporting the ONNX embedder needs torch and transformers once: "
            f"{TORCH_EXTRA_HINT}, run `groundwire embedder export`, and copy the cache folder "
            f"to torch-free servers ({exc})") from exc

    class Pooled(torch.nn.Module):
        def __init__(self, encoder: Any) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            hidden = self.encoder(input_ids=input_ids, attention_mask=attention_mask,
                                  token_type_ids=token_type_ids).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            summed = (hidden * mask).sum(dim=1)
            mean = summed / mask.sum(dim=1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2.0, dim=1)

    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as scratch:
        fp32 = Path(scratch) / "model-fp32.onnx"
        encoder = AutoModel.from_pretrained(str(model_path), local_files_only=True)
        encoder.eval()
        dummy = torch.ones((2, 8), dtype=torch.long)
        axes = {0: "batch", 1: "sequence"}
        # The TorchScript exporter (dynamo=False: no onnxscript needed) warns about its own
        # deprecation and traced shapes; a one-time offline step, its warnings are noise.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            torch.onnx.export(
                Pooled(encoder), (dummy, dummy, torch.zeros_like(dummy)), str(fp32),
                input_names=["input_ids", "attention_mask", "token_type_ids"],
                output_names=["embedding"], opset_version=_OPSET, dynamo=False,
                dynamic_axes={"input_ids": axes, "attention_mask": axes,
                              "token_type_ids": axes, "embedding": {0: "batch"}},
            )
        if quantization == "int8":
            from onnxruntime.quantization import (  # type: ignore[import-untyped]
                QuantType,
                quantize_dynamic,
            )

            int8 = Path(scratch) / "model-int8.onnx"
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                quantize_dynamic(str(fp32), str(int8), per_channel=True,
                                 weight_type=QuantType.QInt8)
            _atomic_place(int8, target)
        else:
            _atomic_place(fp32, target)
    if model_name is not None:
        _write_manifest(target.parent, model_path, model_name, quantization)
    return target


class OnnxEmbedder:
    """Sentence embeddings from an ONNX Runtime session; loads (exports) on first use."""

    def __init__(
        self, model: str, model_path: Path | None = None, *, cache_dir: Path,
        quantization: Quantization = "int8", batch_size: int = 32, query_threads: int = 1,
        ingest_threads: int = 0, max_tokens: int = 256,
    ) -> None:
        self.model_id = model_id_for(model, quantization)
        self.model = model
        self.max_tokens = max_tokens
        self.quantization: Quantization = quantization
        self._path = model_path
        self._cache_dir = cache_dir
        # Dynamic int8 quantisation scales activations per *batch* tensor: a text's vector
        # would depend on its batch neighbours and padding. int8 encodes each text alone, so
        # the same text always gives the same vector (the Embedder contract).
        self._batch_size = 1 if quantization == "int8" else batch_size
        self._query_threads = query_threads
        self._ingest_threads = ingest_threads or (os.cpu_count() or 1)
        self._lock = threading.Lock()
        self._file: Path | None = None
        self._sessions: dict[int, Any] = {}
        self._tokenizer: Any = None
        self._counter: Any = None
        self._dimension: int | None = None

    # ------------------------------------------------------------------ loading
    def _resolve(self) -> tuple[Path, Path]:
        """(folder with ``tokenizer.json``, ONNX file): from the model directory (exported
        on first use when not cached) or, with neither ``model_path`` nor the bundled model
        package installed, from a prepared export folder in the cache."""
        if self._path is not None or bundled_model_installed():
            path = self._path or bundled_model_path()
            if not (path / "tokenizer.json").is_file():
                raise ConfigurationError(f"{path} has no tokenizer.json (embedding.model_path)")
            return path, export_model(path, self._cache_dir, self.quantization,
                                      max_tokens=self.max_tokens, model_name=self.model)
        folder = find_prepared_export(self._cache_dir, self.model, self.quantization,
                                      EXPORT_FORMAT)
        if folder is None:
            raise ConfigurationError(
                f"no ONNX export of {self.model} ({self.quantization}) in {self._cache_dir} "
                "and no model package to export from: run `groundwire embedder export` where "
                f"{TORCH_EXTRA_HINT} is installed and copy its folder here")
        file = folder / f"model-{self.quantization}.onnx"
        if not _valid(file):
            raise ConfigurationError(f"{file} does not match its .sha256 checksum: export "
                                     "it again (`groundwire embedder export`)")
        return folder, file

    def _ensure_loaded(self) -> None:
        if self._file is not None:
            return
        with self._lock:
            if self._file is not None:
                return
            path, file = self._resolve()
            from tokenizers import Tokenizer

            tokenizer = Tokenizer.from_file(str(path / "tokenizer.json"))
            tokenizer.enable_truncation(max_length=self.max_tokens)
            tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")
            counter = Tokenizer.from_file(str(path / "tokenizer.json"))
            counter.no_truncation()
            counter.no_padding()
            self._tokenizer, self._counter = tokenizer, counter
            self._file = file

    def _session(self, threads: int) -> Any:
        self._ensure_loaded()
        session = self._sessions.get(threads)
        if session is not None:
            return session
        with self._lock:
            session = self._sessions.get(threads)
            if session is None:
                import onnxruntime as ort  # type: ignore[import-untyped]

                options = ort.SessionOptions()
                options.intra_op_num_threads = threads
                options.inter_op_num_threads = 1
                options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
                options.log_severity_level = 3
                try:
                    session = ort.InferenceSession(str(self._file), options,
                                                   providers=["CPUExecutionProvider"])
                except Exception as exc:  # a loader failure is an embedding failure
                    raise EmbeddingError(f"cannot load ONNX model {self._file}: {exc}") from exc
                self._sessions[threads] = session
        return session

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._dimension = int(self._encode(["dimension probe"], self._query_threads).shape[1])
        return self._dimension

    # ------------------------------------------------------------------ encoding
    def _run(self, session: Any, texts: Sequence[str]) -> Vectors:
        encodings = self._tokenizer.encode_batch(list(texts))
        feeds = {
            "input_ids": np.asarray([e.ids for e in encodings], dtype=np.int64),
            "attention_mask": np.asarray([e.attention_mask for e in encodings], dtype=np.int64),
            "token_type_ids": np.asarray([e.type_ids for e in encodings], dtype=np.int64),
        }
        (vectors,) = session.run(["embedding"], feeds)
        return np.asarray(vectors, dtype=np.float32)

    def _encode(self, texts: Sequence[str], threads: int) -> Vectors:
        session = self._session(threads)
        # Similar lengths together: less padding per batch (as sentence-transformers does).
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), 0), dtype=np.float32)
        try:
            parts = [self._run(session, [texts[i] for i in order[at:at + self._batch_size]])
                     for at in range(0, len(order), self._batch_size)]
        except Exception as exc:
            raise EmbeddingError(f"encoding failed: {exc}") from exc
        stacked = np.concatenate(parts) if parts else out
        result = np.empty_like(stacked)
        result[order] = stacked
        return result

    def encode_passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(texts, self._ingest_threads)

    def encode_query(self, text: str) -> Vectors:
        return self._encode([text], self._query_threads)[0]

    def encode_queries(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return self._encode(texts, self._query_threads)

    def count_tokens(self, text: str) -> int:
        self._ensure_loaded()
        return len(self._counter.encode(text, add_special_tokens=False).ids)
