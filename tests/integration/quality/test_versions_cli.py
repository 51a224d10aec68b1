"""``groundwire versions`` as a user runs it (subprocess, fake embedder, real PostgreSQL):
a 20-token candidate is refused with exit 5, --force overrides the gate, rollback goes back,
list shows the alias, shadow compares recent live questions."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from processes import clean_env, groundwire_exe
from support.versions_corpus import planted

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # ~30 s: a dozen CLI processes


def test_versions_cli(database_url: str, tmp_path: Path) -> None:
    docs, evals = planted(tmp_path)
    config = tmp_path / "groundwire.toml"
    config.write_text(
        f'data_dir = "{tmp_path / "data"}"\n'
        '[embedding]\nprovider = "fake"\n'
        '[chunking]\nmax_tokens = 200\noverlap_tokens = 0\n'
        f'[contract]\neval_sets = ["{evals}"]\nanswer_limit = 3\n'
        '[contract.targets]\n"hit@1" = {min = 0.9}\n')
    env = clean_env(GROUNDWIRE_DATABASE_URL=database_url)

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([groundwire_exe(), *args, "-c", str(config)], env=env,
                              cwd=tmp_path, capture_output=True, text=True, timeout=300)

    assert cli("ingest", str(docs)).returncode == 0
    asked = cli("ask", "unit with seals rated pressure", "--json")
    assert asked.returncode == 0, asked.stderr

    built = cli("versions", "build", "--set", "chunking.max_tokens=20", "--json")
    assert built.returncode == 0, built.stderr
    assert json.loads(built.stdout)["physical"] == "default.v2"
    assert cli("versions", "build", "--set", "chunking.nope=1").returncode == 2

    refused = cli("versions", "promote")
    assert refused.returncode == 5, refused.stderr
    assert "NOT promoted" in refused.stdout and "MISS" in refused.stdout
    listed = json.loads(cli("versions", "list", "--json").stdout)
    assert listed["live"] == "default"
    assert [v["state"] for v in listed["versions"]] == ["live", "ready"]

    shadowed = cli("versions", "shadow", "--json")
    assert shadowed.returncode == 0, shadowed.stderr
    report = json.loads(shadowed.stdout)
    assert report["questions"] == 1 and report["candidate"] == "default.v2"

    forced = cli("versions", "promote", "--force", "--json")
    assert forced.returncode == 0, forced.stderr
    assert json.loads(forced.stdout)["forced"] is True
    status = json.loads(cli("status", "--json").stdout)
    assert status["index"] == "default.v2"  # the logical name resolves to the live version

    back = cli("versions", "rollback", "--json")
    assert back.returncode == 0 and json.loads(back.stdout)["physical"] == "default"
    assert json.loads(cli("versions", "list", "--json").stdout)["live"] == "default"
