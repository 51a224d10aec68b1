"""Dev mode answers only loopback Host names (DNS rebinding), refuses a non-loopback bind with
one coded line, and the API description follows ``server.api_docs`` with local assets only.
No database: these requests never reach the facade."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from groundwire.security.hosts import is_loopback_address, is_loopback_host_header

LOOPBACK = ["localhost", "localhost:8000", "LOCALHOST.", "127.0.0.1", "127.0.0.1:8000",
            "127.1.2.3:1", "[::1]", "[::1]:8000"]
OTHER = [None, "", "evil.example", "evil.example:8000", "localhost.evil.example",
         "127.0.0.1.nip.io", "0.0.0.0:8000", "192.168.1.5", "[::1]x", "[::1", "::1",
         "127.0.0.1:80:80", "127.0.0.1:abc", "[2001:db8::1]:8000", "testserver"]


@pytest.mark.parametrize("host", LOOPBACK)
def test_loopback_host_headers(host: str) -> None:
    assert is_loopback_host_header(host)


@pytest.mark.parametrize("host", OTHER)
def test_other_host_headers(host: str | None) -> None:
    assert not is_loopback_host_header(host)


def test_bind_addresses() -> None:
    assert all(map(is_loopback_address, ["127.0.0.1", "localhost", "::1", "[::1]"]))
    assert not any(map(is_loopback_address, ["0.0.0.0", "::", "10.0.0.1", "example.com"]))


def _client(tmp_path: Path, base_url: str = "http://127.0.0.1:8000", **values: Any
            ) -> TestClient:
    from groundwire.api.app import create_app
    from groundwire.settings import Settings

    settings = Settings(database_url="postgresql://nobody@127.0.0.1:1/none",
                        data_dir=tmp_path / "data", **values)
    return TestClient(create_app(settings), base_url=base_url)


@pytest.mark.parametrize("host", ["evil.example", "evil.example:8000", "192.168.1.5:8000"])
def test_dev_mode_refuses_other_host_names(tmp_path: Path, host: str) -> None:
    client = _client(tmp_path, security={"dev_mode": True})
    for path in ("/healthz", "/v1/admin/keys", "/openapi.json"):
        r = client.get(path, headers={"host": host})
        assert r.status_code == 403, (path, r.text)
        assert r.json()["error"]["code"] == "auth.dev_mode_host"


@pytest.mark.parametrize("base", ["http://127.0.0.1:8000", "http://localhost:8000",
                                  "http://[::1]:8000"])
def test_dev_mode_answers_loopback_host_names(tmp_path: Path, base: str) -> None:
    client = _client(tmp_path, base_url=base, security={"dev_mode": True})
    assert client.get("/healthz").status_code == 200


def test_host_check_is_dev_mode_only(tmp_path: Path) -> None:
    client = _client(tmp_path, security={"dev_mode": False})
    assert client.get("/healthz", headers={"host": "groundwire.example.com"}).status_code == 200


def _no_foreign_urls(html: str) -> None:
    assert not re.findall(r"(?:https?:)?//[a-z0-9.-]+\.[a-z]{2,}", html, re.I), html


def test_docs_pages_load_only_local_assets_in_dev_mode(tmp_path: Path) -> None:
    client = _client(tmp_path, security={"dev_mode": True})
    spec = client.get("/openapi.json")
    assert spec.status_code == 200 and "/v1/search" in spec.json()["paths"]
    for page in ("/docs", "/redoc"):
        html = client.get(page)
        assert html.status_code == 200, page
        _no_foreign_urls(html.text)
        for src in re.findall(r'(?:src|href)="([^"]+)"', html.text):
            assert src.startswith("/docs-assets/"), src
            assert client.get(src).status_code == 200, src


def test_api_docs_setting_outside_dev_mode(tmp_path: Path) -> None:
    keyed = _client(tmp_path, security={"dev_mode": False})  # server.api_docs = "key"
    for path in ("/openapi.json", "/docs", "/redoc", "/docs-assets/swagger-ui-bundle.js"):
        assert keyed.get(path).status_code == 401, path
    public = _client(tmp_path, security={"dev_mode": False}, server={"api_docs": "public"})
    assert public.get("/openapi.json").status_code == 200
    assert public.get("/docs").status_code == 200
    assert public.get("/docs-assets/swagger-ui.css").status_code == 200
    off = _client(tmp_path, security={"dev_mode": True}, server={"api_docs": "off"})
    assert off.get("/openapi.json").status_code == 200  # dev mode serves them regardless


def test_a_non_loopback_dev_bind_is_one_coded_line(tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from groundwire.cli.main import app

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GROUNDWIRE_DATA_DIR", str(tmp_path / "data"))
    result = CliRunner().invoke(app, ["serve", "--dev", "--host", "0.0.0.0"])
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and "[security.dev_mode_not_loopback]" in lines[0], result.output
    assert "Traceback" not in result.output and "pydantic" not in result.output
