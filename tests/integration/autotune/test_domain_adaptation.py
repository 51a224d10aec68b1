"""``adapt_embedder`` on the real store and model: a model that did not get better is never
kept (nothing written), and a kept model is saved and registered under its new id."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from groundwire.bootstrap import build_app
from groundwire.quality.adaptation import adapt_embedder

pytestmark = [pytest.mark.integration, pytest.mark.slow]

TOPICS = ["volcano eruption lava magma", "espresso coffee grinder crema",
          "bicycle chain gears derailleur", "sourdough starter flour dough",
          "tax return deduction income", "router firmware wifi password",
          "marathon training pace mileage", "orchid watering roots bark"]


def _corpus(folder: Path) -> None:
    folder.mkdir()
    for i in range(48):
        words = TOPICS[i % len(TOPICS)].split()
        text = " ".join(
            f"Note {i} says the {words[(i + j) % 4]} matters for the {words[(i + j + 1) % 4]} "
            f"in case {i * 7 + j}." for j in range(4))
        (folder / f"n{i:02d}.txt").write_text(f"Notebook page {i}\n\n{text}\n")


async def test_no_training_is_never_kept_and_kept_models_are_registered(
    make_settings: Callable[..., Any], real_embedder: Any, tmp_path: Path
) -> None:
    _corpus(tmp_path / "notes")
    settings = make_settings()
    models = Path(settings.data_dir) / "models"
    async with build_app(settings, embedder=real_embedder) as gw:
        await gw.ingest_path(tmp_path / "notes", index="notes")
        report = await adapt_embedder(gw.engine, "notes", max_minutes=0, questions=120, seed=0)
        assert report["training"]["steps"] == 0
        assert report["gain"] == {"dense": 0.0, "fused": 0.0}
        assert not report["kept"] and "not promoted" in report["reason"]
        assert not models.exists()

        report = await adapt_embedder(gw.engine, "notes", max_minutes=0.75, questions=120, seed=0)
    assert report["training"]["steps"] > 0
    assert report["promotion_se"] == 2.0
    assert report["kept"] == (report["gain"]["fused"]
                              > report["promotion_se"] * report["paired_se_fused"])
    if report["kept"]:
        folder = Path(report["model_path"])
        assert (folder / "config.json").exists()
        registry = json.loads((models / "registry.json").read_text())
        assert registry[report["model_id"]]["gain"] == report["gain"]
    else:
        assert not models.exists()


def test_hard_negatives_enter_the_loss() -> None:
    """``train`` with one hard negative per pair scores every question against the negatives
    too: the first step's loss (same model, same pairs, same seed) is higher with them, since
    the softmax has more wrong passages to tell apart."""
    import time

    from groundwire.embedding.model_files import bundled_model_path
    from groundwire.quality.adaptation import _load, train

    pairs = [("how do I pair the remote", "Pair the smart remote with the TV."),
             ("change the picture mode", "Choose a picture mode in Settings."),
             ("update the software", "Update the TV software from the menu."),
             ("turn on subtitles", "Subtitles are turned on in Accessibility.")]
    negatives = ["Pair the phone with a Bluetooth remote speaker.",
                 "Choose a camera mode before taking a photo.",
                 "Update the phone software over Wi-Fi.",
                 "Turn on captions for videos on the phone."]
    losses = {}
    for name, extra in (("in-batch", None), ("hard", negatives)):
        model = _load(bundled_model_path())
        report = train(model, pairs, time.perf_counter() + 600, seed=0, negatives=extra)
        assert report["steps"] == 1
        losses[name] = report["loss_first"]
    assert losses["hard"] > losses["in-batch"] > 0
