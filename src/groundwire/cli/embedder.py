"""``groundwire embedder export``: prepare the ONNX embedder ahead of time, so servers need no
torch. Registered in ``cli/main.py``.

Run it once where ``groundwire[torch]`` is installed (``make install``, an image build step):
it exports the configured model (``embedding.model`` / ``embedding.model_path``, default the
bundled MiniLM) to ONNX at the quantisation ``embedding.provider`` serves (fp32 for the
default ``onnx-fp32``, int8 for ``onnx``) unless ``-q`` says otherwise, into the ONNX cache
(``$XDG_CACHE_HOME`` or ``~/.cache``, ``/groundwire/onnx``; ``--cache-dir`` to choose) with a
sha256 checksum, the tokenizer and a manifest. Copy that folder to a plain ``pip install
groundwire`` and serve with the same ``embedding.provider``. A valid cached export is reused,
not rebuilt.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal, cast

import typer

from groundwire.cli.options import ConfigOpt, JsonOpt
from groundwire.cli.output import fail, load_cli_settings
from groundwire.errors import GroundwireError, InvalidRequest

embedder_app = typer.Typer(help="Prepare the embedding model (ONNX export for torch-free "
                           "serving).", no_args_is_help=True)

Quantization = Literal["int8", "fp32"]
QUANTIZATIONS = ("int8", "fp32")
PROVIDER = {"int8": "onnx", "fp32": "onnx-fp32"}  # the provider that serves each export


@embedder_app.command("export")
def embedder_export(
    quantization: Annotated[list[str] | None, typer.Option(
        "--quantization", "-q",
        help="fp32 (embedding.provider onnx-fp32) or int8 (onnx); repeat for both. Default: "
        "the one the configured provider serves.")] = None,
    cache_dir: Annotated[Path | None, typer.Option(
        "--cache-dir", help="Export folder root (default: the ONNX cache the server reads, "
        "$XDG_CACHE_HOME/groundwire/onnx or ~/.cache/groundwire/onnx).")] = None,
    config: ConfigOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Export the configured embedding model to ONNX (needs groundwire[torch] once)."""
    from groundwire.embedding.model_files import bundled_model_path, default_cache_dir
    from groundwire.embedding.onnx import _sha256, export_model, model_id_for

    try:
        bad = [q for q in quantization or [] if q not in QUANTIZATIONS]
        if bad:
            raise InvalidRequest(f"--quantization must be int8 or fp32, not {', '.join(bad)}")
        settings = load_cli_settings(config)
        embedding = settings.embedding
        served = "int8" if embedding.provider == "onnx" else "fp32"
        wanted = list(dict.fromkeys(quantization or [served]))
        model_path = Path(embedding.model_path) if embedding.model_path else bundled_model_path()
        root = cache_dir or default_cache_dir()
        done: list[dict[str, Any]] = []
        for name in wanted:
            q = cast(Quantization, name)
            if not as_json:
                typer.echo(f"exporting {embedding.model} ({q}) from {model_path} ...", err=True)
            file = export_model(model_path, root, q, max_tokens=embedding.max_seq_tokens,
                                model_name=embedding.model)
            done.append({"model_id": model_id_for(embedding.model, q),
                         "file": str(file), "sha256": _sha256(file),
                         "bytes": file.stat().st_size})
    except GroundwireError as exc:
        fail(exc, as_json)
        return
    if as_json:
        typer.echo(json.dumps({"cache_dir": str(root), "exports": done}, indent=2))
        return
    for row in done:
        typer.echo(f"{row['model_id']}: {row['file']} ({row['bytes'] / 1e6:.1f} MB, "
                   f"sha256 {str(row['sha256'])[:16]}...)")
    providers = " or ".join(f'"{PROVIDER[str(row["model_id"]).rsplit("-", 1)[-1]]}"'
                            for row in done)
    typer.echo(f"serve without torch: embedding.provider = {providers} with this folder in "
               f"{root}")
