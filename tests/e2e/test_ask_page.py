"""The ask page in a real headless Chromium against a real ``groundwire serve``: an answer with
clickable [n] citation chips that lead to the cited passage with the quote marked, and the
abstained state for an off-topic question."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from live_server import LiveServer

pytestmark = pytest.mark.e2e

TIMEOUT_MS = 120_000  # an answer on a busy 2-core box; never a timing assertion
QUESTION = "How often are encryption keys rotated?"
EXPECTED_QUOTE = "Encryption keys are rotated every 90 days."
OFF_TOPIC = "Who painted the Mona Lisa?"


def test_ask_page_answers_with_citations_and_abstains(
    browser: Any, live_server: LiveServer, tmp_path: Path
) -> None:
    from playwright.sync_api import expect

    context = browser.new_context(viewport={"width": 1100, "height": 1400})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}")
            if msg.type == "error" and not msg.text.startswith("Failed to load resource")
            else None)
    # Failed loads are checked by URL; the page has no favicon, and browsers ask for one.
    page.on("response", lambda r: problems.append(f"HTTP {r.status} for {r.url}")
            if r.status >= 400 and not r.url.endswith("/favicon.ico") else None)
    try:
        page.goto(live_server.base_url + "/")
        expect(page).to_have_title("Groundwire")
        for section in ("#answer", "#citations", "#passages"):
            expect(page.locator(section)).to_be_hidden()
        expect(page.locator("#index")).to_have_value("default")

        # ------------------------------------------------------------------ answered
        page.fill("#question", QUESTION)
        with page.expect_response(lambda r: r.url.endswith("/v1/ask")) as response_info:
            page.click("#ask-button")
        data = response_info.value.json()
        assert data["abstained"] is False, data
        answer = page.locator("#answer")
        expect(answer).to_be_visible(timeout=TIMEOUT_MS)
        chip = answer.locator("a.cite", has_text="[1]").first
        expect(chip).to_be_visible()
        expect(chip).to_have_attribute("href", "#cite-1")
        expect(page.locator("#status")).to_have_text("")
        expect(page.locator("#ask-button")).to_be_enabled()
        # Every [n] in the answer is a chip, each with a card.
        chip_numbers = answer.locator("a.cite").evaluate_all("cs => cs.map(c => c.dataset.n)")
        assert {int(n) for n in chip_numbers} == {c["n"] for c in data["citations"]}
        for c in data["citations"]:
            expect(page.locator(f"#cite-{c['n']}")).to_have_count(1)
        assert "[1]" not in answer.locator("p.answer-text").evaluate(
            "p => Array.from(p.childNodes).filter(n => n.nodeType === 3)"
            ".map(n => n.textContent).join('')"
        ), "a [1] marker was left as plain text instead of a chip"
        page.screenshot(path=str(tmp_path / "ask-answered-top.png"), full_page=True)

        chip.click()
        card = page.locator("#cite-1")
        expect(card).to_be_visible()
        expect(card).to_be_in_viewport()
        expect(card).to_be_focused()
        first = next(c for c in data["citations"] if c["n"] == 1)
        mark = card.locator("mark")
        expect(mark).to_have_count(1)
        expect(mark).to_have_text(first["quote"])
        expect(mark).to_contain_text(EXPECTED_QUOTE)
        expect(card.locator(".uri")).to_have_text("policies/security.md")
        expect(page.locator("#passages summary")).to_contain_text("All passages read")
        page.screenshot(path=str(tmp_path / "ask-answered.png"), full_page=True)

        # thumbs up: POST /v1/feedback with the answer's record id
        with page.expect_response(lambda r: r.url.endswith("/v1/feedback")) as feedback_info:
            page.click("#answer button.feedback-up")
        assert feedback_info.value.status == 201
        assert feedback_info.value.json()["record_id"] == data["record_id"]
        expect(page.locator("#answer .feedback-status")).to_have_text("Thanks for the feedback.")
        expect(page.locator("#answer button.feedback-down")).to_be_disabled()

        # ------------------------------------------------------------------ abstained
        page.fill("#question", OFF_TOPIC)
        page.click("#ask-button")
        note = page.locator("#answer .abstain-note")
        expect(note).to_be_visible(timeout=TIMEOUT_MS)
        expect(note).to_have_text("No confident answer")
        expect(page.locator("#answer p.answer-text.abstained")).to_be_visible()
        expect(page.locator("#status")).to_have_text("No confident answer found.")
        expect(page.locator("#answer a.cite")).to_have_count(0)
        expect(page.locator("[id^='cite-']")).to_have_count(0)
        page.screenshot(path=str(tmp_path / "ask-abstained.png"), full_page=True)
    finally:
        context.close()
    assert not problems, problems
