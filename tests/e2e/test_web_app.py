"""The web app against a real keyed ``groundwire serve`` (``web_server.py``).

* ``test_session_cookie_csrf_and_scopes`` (plain HTTP): sign-in sets an HttpOnly,
  SameSite=Strict session cookie that does not hold the key in clear; a tampered cookie is no
  session; unsafe requests riding on the cookie need the double-submit CSRF token; /admin is
  403 for a key without admin; the version API is operator-only.
* ``test_user_and_operator_journey`` (headless system Chromium): sign in, upload two files
  (one indexed, one failed with its code), ask, ask an elliptical follow-up answered from the
  right document with a citation, open the citation (the quote marked in its passage), give
  feedback, see both in the console counts, build + promote + roll back a version, create and
  revoke a key (the revoked key can no longer sign in). With ``GROUNDWIRE_SCREENSHOTS=1``
  (``make screenshots``) every page is saved to ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from web_server import KeyedServer, keyed_server

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 120_000  # an answer or a version build on a busy 2-core box; never asserted on
REPO = Path(__file__).resolve().parents[2]
SHOTS = REPO / "docs" / "screenshots"
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def _choose_files_by_keyboard(page: Any, attempts: int = 6) -> Any:
    """Enter on the focused drop zone opens the file chooser (keyboard users pick files that
    way). On a loaded box the first key press can land before the deferred script listens, or
    the focus can move while the page settles (CI once waited 120 s for a chooser that never
    opened), so it is tried again a few times; a drop zone that never opens one still fails."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    for attempt in range(attempts):
        try:
            with page.expect_file_chooser(timeout=20_000) as chooser:
                page.locator("#dropzone").focus()
                page.keyboard.press("Enter")
            return chooser.value
        except PlaywrightTimeout:
            if attempt == attempts - 1:
                raise
    raise AssertionError("unreachable")


@pytest.fixture(scope="module")
def keyed(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[KeyedServer]:
    with keyed_server(pg_admin_url, tmp_path_factory.mktemp("web")) as server:
        yield server


def _signin(client: httpx.Client, key: str) -> httpx.Response:
    page = client.get("/signin")
    assert page.status_code == 200
    token = CSRF.search(page.text)
    assert token is not None
    return client.post("/signin", data={"key": key, "csrf_token": token.group(1),
                                        "next": "/app"})


def test_session_cookie_csrf_and_scopes(keyed: KeyedServer) -> None:
    with httpx.Client(base_url=keyed.base_url, timeout=60.0) as anon:
        first = anon.get("/app")
        assert first.status_code == 303 and first.headers["location"] == "/signin?next=/app"
        assert anon.get("/v1/conversations").status_code == 401  # the API is unchanged

    with httpx.Client(base_url=keyed.base_url, timeout=60.0) as browser:
        refused = _signin(browser, keyed.admin_key[:-2] + "xx")
        assert refused.status_code == 401 and "auth.invalid_key" in refused.text
        assert "gw_session" not in browser.cookies
        # a form without the browser's CSRF token is refused before the key is even read
        forged = browser.post("/signin", data={"key": keyed.admin_key, "csrf_token": "nope"})
        assert forged.status_code == 403 and "auth.csrf" in forged.text

        signed = _signin(browser, keyed.admin_key)
        assert signed.status_code == 303 and signed.headers["location"] == "/app"
        set_cookie = signed.headers["set-cookie"]
        assert "gw_session=" in set_cookie and "HttpOnly" in set_cookie
        assert "SameSite=strict" in set_cookie or "SameSite=Strict" in set_cookie
        session = browser.cookies["gw_session"]
        secret = keyed.admin_key.split("_", 2)[2]
        assert keyed.admin_key not in session and secret not in session
        page = browser.get("/app")
        assert page.status_code == 200 and "Conversations" in page.text
        assert page.headers["cache-control"] == "no-store"

        # API calls riding on the cookie: the CSRF header is required, then they work
        no_header = browser.post("/v1/conversations", json={"title": "x"})
        assert no_header.status_code == 403
        assert no_header.json()["error"]["code"] == "auth.csrf"
        csrf = browser.cookies["gw_csrf"]
        made = browser.post("/v1/conversations", json={"title": "via cookie"},
                            headers={"X-CSRF-Token": csrf})
        assert made.status_code == 201, made.text
        # page forms: the field is required too
        assert browser.post("/app/conversations", data={"title": "t"}).status_code == 403
        created = browser.post("/app/conversations", data={"title": "t", "csrf_token": csrf})
        assert created.status_code == 303 and created.headers["location"].startswith("/app/c/")
        assert browser.get("/admin").status_code == 200
        reviews = browser.get("/admin/reviews")
        assert reviews.status_code == 200 and "No workflows for this tenant" in reviews.text
        started = browser.post("/admin/assess", data={"index": "handbook", "csrf_token": csrf})
        assert started.status_code == 303, started.text
        job = browser.get(started.headers["location"])
        assert job.status_code == 200 and "Readiness assessment" in job.text

        browser.cookies.clear()
        browser.cookies.set("gw_session", session[:-4] + "AAAA")  # tampered: no session
        tampered = browser.get("/app")
        assert tampered.status_code == 303 and "/signin" in tampered.headers["location"]

    reader = keyed.reader_key
    with httpx.Client(base_url=keyed.base_url, timeout=60.0) as bob:
        assert _signin(bob, reader).status_code == 303
        assert bob.get("/app").status_code == 200
        for path in ("/admin", "/admin/keys", "/admin/versions", "/admin/reviews",
                     "/app/upload"):
            denied = bob.get(path)
            assert denied.status_code == 403, path
            assert "auth.forbidden" in denied.text
    with keyed.server.client(headers={"Authorization": f"Bearer {reader}"}) as api:
        assert api.get("/v1/admin/versions/handbook").status_code == 403
    with keyed.server.client(headers={"Authorization": f"Bearer {keyed.admin_key}"}) as api:
        listed = api.get("/v1/admin/versions/handbook")
        assert listed.status_code == 200 and listed.json()["live"] == "handbook"
    log = keyed.server.log_path.read_text(errors="replace")
    assert keyed.admin_key.split("_", 2)[2] not in log and reader.split("_", 2)[2] not in log


def _shot(page: Any, name: str) -> None:
    if os.environ.get("GROUNDWIRE_SCREENSHOTS") == "1":
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_user_and_operator_journey(keyed: KeyedServer, browser: Any, tmp_path: Path) -> None:
    from playwright.sync_api import expect

    base = keyed.base_url
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    expect.set_options(timeout=TIMEOUT_MS)  # answers, builds, assessments: slow on a busy box
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("response", lambda r: problems.append(f"HTTP {r.status} for {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    page.on("dialog", lambda dialog: dialog.accept())
    # The product runs offline: no page may load anything from outside the server.
    def outside(request: Any) -> None:
        if not request.url.startswith((base, "data:", "blob:")):
            problems.append(f"request outside the server: {request.url}")

    page.on("request", outside)
    try:
        # ------------------------------------------------------------ sign in
        page.goto(base + "/app")
        expect(page).to_have_url(re.compile(r"/signin\?next=/app$"))
        _shot(page, "signin")
        page.get_by_label("API key").fill(keyed.admin_key)
        page.get_by_role("button", name="Sign in").click()
        expect(page).to_have_url(base + "/app")
        expect(page.get_by_role("heading", name="Conversations", level=1)).to_be_visible()
        page.keyboard.press("Tab")  # the first stop is the skip link, and it works
        expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("main")).to_be_focused()

        # the original ask page works on the same session (cookie + CSRF header)
        page.goto(base + "/")
        page.fill("#question", "How often are encryption keys rotated?")
        page.click("#ask-button")
        expect(page.locator("#answer p.answer-text")).to_contain_text("every 90 days")

        # ------------------------------------------------------------ upload
        page.goto(base + "/app")
        good = tmp_path / "warranty.md"
        good.write_text("# Quillmate appliance warranty\n\nThe Quillmate hardware appliance "
                        "comes with a five-year warranty that covers parts and labour.\n")
        bad = tmp_path / "broken.pdf"
        bad.write_bytes(b"this is not a PDF at all")
        page.get_by_role("link", name="Upload").click()
        expect(page.locator("#dropzone")).to_be_visible()
        page.wait_for_load_state("load")  # console.js (deferred) is listening
        chooser = _choose_files_by_keyboard(page)
        chooser.set_files([str(good), str(bad)])
        results = page.locator("#upload-results tbody tr")
        expect(results).to_have_count(2)
        expect(page.locator("#upload-results tr[data-status='indexed']")).to_have_count(1)
        expect(page.locator("#upload-results tr[data-status='failed'] .result")).to_contain_text(
            "parse.")
        expect(page.locator("#upload-results tr[data-status='indexed']")).to_contain_text(
            "warranty.md")
        _shot(page, "upload")

        # ------------------------------------------------------------ ask + follow-up
        page.get_by_role("link", name="Conversations").click()
        page.get_by_label("Title (optional)").fill("Quillmate questions")
        page.get_by_role("button", name="New conversation").click()
        expect(page.get_by_role("heading", name="Quillmate questions")).to_be_visible()
        conversation_path = page.url.removeprefix(base)
        page.get_by_label("Your question").fill("How long is the warranty on the appliance?")
        page.get_by_role("button", name="Ask").click()
        first = page.locator("#turn-1")
        expect(first.locator(".answer-text")).to_contain_text("five-year warranty")
        expect(first.locator("a.cite").first).to_contain_text("warranty")

        page.get_by_label("Your question").fill("What does the Team plan cost?")
        page.get_by_role("button", name="Ask").click()
        expect(page.locator("#turn-2 .answer-text")).to_contain_text("12 US dollars")
        page.get_by_label("Your question").fill("Who gets a discount on it?")  # elliptical
        page.get_by_role("button", name="Ask").click()
        third = page.locator("#turn-3")
        expect(third.locator(".rewritten")).to_contain_text("Team")
        expect(third.locator(".answer-text")).to_contain_text("charities and schools")
        cite = third.locator("a.cite").first
        expect(cite).to_contain_text("pricing")
        _shot(page, "conversation")

        # ------------------------------------------------------------ open the citation
        cite.click()
        mark = page.locator("#passage mark#cited")
        expect(mark).to_contain_text("charities and schools")
        expect(mark).to_be_focused()
        # the whole document around it, not just the passage
        expect(page.locator("#passage")).to_contain_text("The Starter plan is free")
        expect(page.locator("#passage")).to_contain_text("full refund")
        expect(page.locator(".uri")).to_have_text("billing/pricing.md")
        _shot(page, "citation")
        page.go_back()

        # ------------------------------------------------------------ feedback
        third = page.locator("#turn-3")
        third.get_by_role("button", name="Helpful", exact=True).click()
        expect(third.locator(".feedback-status")).to_have_text("Thanks for the feedback.")

        # ------------------------------------------------------------ rename, delete
        page.get_by_text("Rename or delete").click()
        page.get_by_label("New title").fill("Quillmate: plans and warranty")
        page.get_by_role("button", name="Rename").click()
        expect(page.get_by_role("heading", name="Quillmate: plans and warranty")).to_be_visible()
        page.get_by_label("Title (optional)").fill("Scratch")
        page.get_by_role("button", name="New conversation").click()
        expect(page.get_by_role("heading", name="Scratch")).to_be_visible()
        page.get_by_text("Rename or delete").click()
        page.get_by_role("button", name="Delete").click()  # the confirm dialog is accepted
        expect(page).to_have_url(base + "/app")
        expect(page.locator(".conversation-list")).not_to_contain_text("Scratch")
        expect(page.locator(".conversation-list")).to_contain_text("plans and warranty")

        # ------------------------------------------------------------ dashboard counts
        page.get_by_role("link", name="Console").click()
        expect(page.get_by_role("heading", name="Operator console")).to_be_visible()
        answers = int(page.locator("#total-answers").inner_text())
        assert answers >= 3, answers  # the three turns (the ask page's /v1/ask too)
        expect(page.locator("#total-feedback")).to_have_text("1")
        expect(page.locator(".chart canvas").first).to_be_visible()
        assert page.locator(".chart canvas").count() == 6
        _shot(page, "console")
        page.get_by_label("Index").fill("handbook")  # readiness: an assessment job
        page.get_by_role("button", name="Assess readiness").click()
        expect(page.locator("#assessment-state")).to_have_attribute("data-state", "succeeded")
        report = page.frame_locator("iframe.report")
        expect(report.locator("body")).to_contain_text("handbook")
        _shot(page, "readiness")

        # ------------------------------------------------------------ versions
        page.get_by_role("link", name="Versions").click()
        page.get_by_label("Index").fill("handbook")
        page.get_by_role("button", name="Show").click()
        expect(page.locator("#live-version")).to_have_text("handbook")
        page.get_by_role("button", name="Build a new version").click()  # a background job
        expect(page).to_have_url(re.compile(r"/admin/versions\?index=handbook&job=\w+$"))
        expect(page.locator("#version-result")).to_contain_text("Built version 2")
        page.get_by_role("button", name="Promote version 2").click()
        expect(page.locator("#version-result")).to_contain_text("Promoted version 2")
        expect(page.locator("#live-version")).to_have_text("handbook.v2")
        _shot(page, "versions")
        page.get_by_role("button", name="Roll back").click()
        expect(page.locator("#version-result")).to_contain_text("Rolled back to handbook")
        expect(page.locator("#live-version")).to_have_text("handbook")

        # ------------------------------------------------------------ keys
        page.get_by_role("link", name="Keys").click()
        page.get_by_label("User", exact=True).fill("carol")
        page.get_by_label("Label", exact=True).fill("carol's laptop")
        page.get_by_role("button", name="Create key").click()
        new_key = page.locator("#new-key-value").inner_text()
        assert new_key.startswith("gw_")
        _shot(page, "keys")
        key_id = new_key.split("_")[1]
        page.goto(base + "/admin/keys")  # the secret is shown once: not on a reload
        expect(page.locator("#new-key-value")).to_have_count(0)
        page.get_by_role("button", name=f"Revoke key {key_id}").click()
        expect(page.locator(f"#key-{key_id} .key-state")).to_have_text("revoked")

        # ------------------------------------------------------------ phone width
        phone = browser.new_context(viewport={"width": 390, "height": 844},
                                    storage_state=context.storage_state())
        try:
            small = phone.new_page()
            small.on("request", outside)
            for path in ("/app", conversation_path, "/app/upload", "/admin", "/admin/keys"):
                small.goto(base + path)
                overflow = small.evaluate(
                    "document.documentElement.scrollWidth - window.innerWidth")
                assert overflow <= 0, (path, overflow)  # no sideways scrolling
            small.goto(base + conversation_path)
            expect(small.get_by_label("Your question")).to_be_visible()
            _shot(small, "conversation-phone")
        finally:
            phone.close()
    finally:
        expect.set_options(timeout=5_000)  # Playwright's default, for the other tests
        context.close()
    assert not problems, problems

    with httpx.Client(base_url=keyed.base_url, timeout=60.0) as carol:
        assert _signin(carol, new_key).status_code == 401  # revoked: no session
