"""Fixtures of the browser tests: ``live_server`` (from ``tests/live_server.py``) and a
headless system Chromium driven by Playwright. Playwright never downloads a browser here: the
test uses ``chromium`` / ``chromium-browser`` from PATH, skips without one, and fails instead
of skipping when ``GROUNDWIRE_REQUIRE_BROWSER=1`` (CI)."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest
from live_server import live_server  # noqa: F401  (re-exported fixture)

CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        message = "no chromium or chromium-browser on PATH (e.g. apt-get install chromium)"
        if os.environ.get("GROUNDWIRE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"GROUNDWIRE_REQUIRE_BROWSER=1 but {message}")
        pytest.skip(message)
    return path


@pytest.fixture(scope="module")
def browser(chromium_path: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()
