"""Fail-closed is said out loud (issue 18, item 9): documents ingested without permissions are
readable by the tenant's admins only, and ``ingest``, ``status`` (text and --json), the API's
document listing and ``keys create`` say how many, and which setting opens them.

The CLI runs as a user runs it: a subprocess (fake embedder) on a fresh database."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from processes import groundwire_exe

pytestmark = pytest.mark.integration

SETTING = "security.default_readers"


def _corpus(root: Path) -> Path:
    folder = root / "demo"
    folder.mkdir()
    (folder / "a.md").write_text("# Alpha\n\nThe alpha tide table lists spring tides.\n")
    (folder / "b.md").write_text("# Beta\n\nThe beta harbour opens at dawn.\n")
    (folder / "open.md").write_text(
        "---\npermissions: ['*']\n---\n# Open\n\nThe open notice is for everyone.\n")
    return folder


def _cli(database_url: str, cwd: Path, *args: str, env: dict[str, str] | None = None
         ) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("GROUNDWIRE_")}
    base.update(GROUNDWIRE_DATABASE_URL=database_url, GROUNDWIRE_DATA_DIR=str(cwd / "data"),
                GROUNDWIRE_EMBEDDING__PROVIDER="fake", GROUNDWIRE_LOG_LEVEL="WARNING",
                **(env or {}))
    result = subprocess.run([groundwire_exe(), *args], cwd=cwd, env=base, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    return result


def test_cli_says_how_many_documents_only_admins_read(database_url: str,
                                                      tmp_path: Path) -> None:
    folder = _corpus(tmp_path)
    ingest = json.loads(_cli(database_url, tmp_path, "ingest", str(folder), "--json").stdout)
    assert ingest["access"] == {"indexed": 3, "admin_only": 2, "opened_by": SETTING}

    again = _cli(database_url, tmp_path, "ingest", str(folder))  # text: unchanged, still said
    assert "2 of 3 indexed documents are readable by tenant 'default''s admins only" in (
        again.stderr), again.stderr
    assert f'{SETTING} = ["*"]' in again.stderr

    status = json.loads(_cli(database_url, tmp_path, "status", "--json").stdout)
    assert status["access"] == {"indexed": 3, "admin_only": 2, "opened_by": SETTING}
    text = _cli(database_url, tmp_path, "status").stdout
    assert "note: 2 of 3 indexed documents are readable by" in text and SETTING in text

    key = json.loads(_cli(database_url, tmp_path, "keys", "create", "--user", "bob",
                          "--scope", "search", "--scope", "ask", "--json").stdout)
    assert key["access"] == {"indexed": 3, "admin_only": 2, "readable": 1,
                             "opened_by": SETTING}
    said = _cli(database_url, tmp_path, "keys", "create", "--user", "bob", "--scope", "search")
    assert "user 'bob' can read 1 of the 3 indexed documents of tenant 'default'" in said.stderr
    assert SETTING in said.stderr
    admin = json.loads(_cli(database_url, tmp_path, "keys", "create", "--user", "root",
                            "--scope", "admin", "--json").stdout)
    assert "access" not in admin  # an admin reads everything

    opened = {"GROUNDWIRE_SECURITY__DEFAULT_READERS": '["*"]'}
    ingest = json.loads(_cli(database_url, tmp_path, "ingest", str(folder), "--json",
                             env=opened).stdout)
    assert ingest["access"]["admin_only"] == 0
    quiet = _cli(database_url, tmp_path, "ingest", str(folder), env=opened)
    assert SETTING not in quiet.stderr
    key = json.loads(_cli(database_url, tmp_path, "keys", "create", "--user", "bob",
                          "--scope", "search", "--json").stdout)
    assert key["access"]["readable"] == 3


def test_api_listing_tells_admins_what_only_they_read(secured: Any) -> None:
    admin = secured.key("acme", "root", scopes=("admin",))
    secured.push(admin, [
        {"uri": "hidden", "text": "No permissions here."},
        {"uri": "open", "text": "Open to all.", "permissions": {"everyone": True}}],
        index="vis")
    listing = secured.client.get("/v1/documents", params={"index": "vis"},
                                 headers=secured.as_(admin)).json()
    assert listing["access"] == {"indexed": 2, "admin_only": 1, "opened_by": SETTING}
    assert SETTING in listing["note"] and "1 of 2" in listing["note"]
    reader = secured.key("acme", "ann", scopes=("search",))
    mine = secured.client.get("/v1/documents", params={"index": "vis"},
                              headers=secured.as_(reader)).json()
    assert mine["access"] is None and mine["note"] is None  # not told what it cannot read
    made = secured.client.post("/v1/admin/keys", headers=secured.as_(admin),
                               json={"user": "newbie", "scopes": ["search", "ask"]})
    assert made.status_code == 201, made.text
    assert made.json()["access"] == {"indexed": 2, "admin_only": 1, "readable": 1,
                                     "opened_by": SETTING}
    assert "can read 1 of the 2" in made.json()["note"]
