"""The web app in dev mode (``live_server``: loopback, no keys): signed in automatically as the
default tenant's admin, ``/signin`` just goes on, forms still need the CSRF token, and a
non-loopback Host name is refused as for the API (DNS rebinding)."""

from __future__ import annotations

import re

import httpx
import pytest
from live_server import LiveServer

pytestmark = pytest.mark.e2e

CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def test_dev_mode_signs_in_automatically_on_loopback(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.base_url, timeout=60.0) as browser:
        page = browser.get("/app")
        assert page.status_code == 200 and "default/dev (dev mode)" in page.text
        assert "Sign out" not in page.text  # nothing to sign out of
        signin = browser.get("/signin?next=/admin")
        assert signin.status_code == 303 and signin.headers["location"] == "/admin"
        admin = browser.get("/admin")
        assert admin.status_code == 200 and "Operator console" in admin.text
        token = CSRF.search(page.text)
        assert token is not None
        assert browser.post("/app/conversations", data={"title": "x"}).status_code == 403
        made = browser.post("/app/conversations", data={"title": "dev", "csrf_token":
                                                        token.group(1)})
        assert made.status_code == 303
        assert 'id="thread-title">dev</h1>' in browser.get(made.headers["location"]).text
        rebinding = browser.get("/app", headers={"Host": f"evil.example:{page.url.port}"})
        assert rebinding.status_code == 403
        assert rebinding.json()["error"]["code"] == "auth.dev_mode_host"
