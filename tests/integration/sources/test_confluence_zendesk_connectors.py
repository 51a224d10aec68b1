"""Confluence and Zendesk connector specifics against local servers on 127.0.0.1 that speak
the documented API shapes (``tests/rest_sources_harness.py``; the real services cannot be
reached from here): cursor and offset pagination, a 429 honoured after its Retry-After, a
wrong token as a coded auth error that never shows the token, read restrictions and user
segments mapped to reader groups (and restricted articles skipped by default), links back
to the page."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rest_sources_harness import TOKEN, ConfluenceHarness, ZendeskHarness

from groundwire.errors import InvalidRequest
from groundwire.ingest.connectors import confluence, zendesk
from groundwire.settings import Settings
from groundwire.sources.secrets import resolve

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def wiki() -> Iterator[ConfluenceHarness]:
    harness = ConfluenceHarness()
    yield harness
    harness.close()


@pytest.fixture
def helpdesk() -> Iterator[ZendeskHarness]:
    harness = ZendeskHarness()
    yield harness
    harness.close()


def _pages_listed(hits: list[tuple[str, int]], suffix: str) -> int:
    return sum(1 for path, status in hits if path.endswith(suffix) and status == 200)


def test_confluence_paginates_waits_out_a_429_and_links_back(wiki: ConfluenceHarness,
                                                             settings: Settings) -> None:
    connector = confluence.from_options(resolve(wiki.options()), settings)
    wiki.server.rate_limit_once = "1"
    started = time.monotonic()
    first = connector.changes(None)
    assert time.monotonic() - started >= 0.9  # Retry-After: 1 was honoured
    assert ("/wiki/api/v2/spaces", 429) in wiki.server.hits
    assert _pages_listed(wiki.server.hits, "/pages") == 2  # 3 pages, page_size 2
    assert [i.uri for i in first.items] == ["pages/1001", "pages/1002", "pages/1003"]
    alpha = first.items[0]
    assert alpha.title == "Alpha" and alpha.permissions is None
    assert alpha.metadata["url"] == f"{wiki.server.base}/wiki/spaces/DOCS/pages/1001/Alpha"
    assert b"harbour lantern" in alpha.read() and alpha.media_type == "text/html"
    assert not any("restriction" in path for path, _ in wiki.server.hits)  # not mapped

    second = connector.changes(first.cursor)
    assert second.items == [] and second.deleted == [] and not second.complete
    wiki.change("gamma", "Gamma now covers the zebracorn.")
    wiki.delete("beta")
    third = connector.changes(second.cursor)
    assert [i.uri for i in third.items] == ["pages/1003"]
    assert third.deleted == ["pages/1002"]


def test_confluence_maps_read_restrictions_with_inheritance(wiki: ConfluenceHarness,
                                                            settings: Settings) -> None:
    connector = confluence.from_options(
        {**resolve(wiki.options()), "map_permissions": True}, settings)
    page = wiki.pages["1002"]
    wiki._put("gamma", "Gamma text.", version=1, parent="1002")  # gamma under beta
    wiki.restrictions["1002"] = {"group": [{"type": "group", "name": "eng team"}],
                                 "user": [{"accountId": "5b10ac", "email": "ann@example.com"}]}
    first = connector.changes(None)
    by_uri = {i.uri: i for i in first.items}
    assert by_uri["pages/1001"].permissions is None  # unrestricted: default readers
    beta, gamma = by_uri["pages/1002"].permissions, by_uri["pages/1003"].permissions
    assert beta is not None and beta.groups == ("confluence-eng-team",)
    assert beta.users == ("ann@example.com",) and not beta.everyone
    assert gamma == beta  # inherited from its parent page

    # a restriction lifted without a new version is still seen: the page is re-listed
    wiki.restrictions.pop("1002")
    assert page["version"]["number"] == 1
    second = connector.changes(first.cursor)
    assert sorted(i.uri for i in second.items) == ["pages/1002", "pages/1003"]
    assert all(i.permissions is None for i in second.items)


def test_confluence_wrong_token_and_unknown_space_are_coded(wiki: ConfluenceHarness,
                                                            settings: Settings) -> None:
    bad = confluence.from_options({**resolve(wiki.options()), "token": "wrong-token"},
                                  settings)
    with pytest.raises(InvalidRequest) as caught:
        bad.changes(None)
    assert caught.value.code == "confluence.auth_failed"
    assert "wrong-token" not in str(caught.value) and TOKEN not in str(caught.value)
    missing = confluence.from_options({**resolve(wiki.options()), "space": "NOPE"}, settings)
    with pytest.raises(InvalidRequest) as caught:
        missing.changes(None)
    assert caught.value.code == "confluence.space_not_found"


def test_rate_limit_beyond_the_bound_fails_at_once(wiki: ConfluenceHarness,
                                                   settings: Settings) -> None:
    connector = confluence.from_options(
        {**resolve(wiki.options()), "max_retry_wait_s": 5}, settings)
    wiki.server.rate_limit_once = "3600"
    started = time.monotonic()
    with pytest.raises(InvalidRequest) as caught:
        connector.changes(None)
    assert caught.value.code == "confluence.rate_limited"
    assert time.monotonic() - started < 5


def test_zendesk_cursor_and_offset_pages_skip_drafts_and_restricted(
        helpdesk: ZendeskHarness, settings: Settings) -> None:
    helpdesk.ids.update(draft="369100", staff="369101", vip="369102", lost="369103")
    helpdesk._put("draft", "A draft.", draft=True)
    helpdesk._put("staff", "Staff only notes about the escalation rota.", user_segment_id=11)
    helpdesk._put("vip", "VIP tagged customers text.", user_segment_id=12)
    helpdesk._put("lost", "Segment gone.", user_segment_id=13)
    helpdesk.segments["11"] = {"name": "Agents in tier 2", "user_type": "staff",
                               "group_ids": [501, 502], "tags": [], "organization_ids": []}
    helpdesk.segments["12"] = {"name": "VIP", "user_type": "signed_in_users",
                               "group_ids": [], "tags": ["vip"], "organization_ids": []}

    safe = zendesk.from_options(resolve(helpdesk.options()), settings).changes(None)
    assert [i.uri for i in safe.items] == ["articles/360001", "articles/360002",
                                           "articles/360003"]
    assert safe.notes["skipped_restricted"] == 3
    assert _pages_listed(helpdesk.server.hits, "/articles.json") == 4  # 7 articles, size 2
    alpha = safe.items[0]
    assert alpha.metadata["url"].endswith("/articles/360001-alpha")
    assert alpha.metadata["section_id"] == "7001" and alpha.permissions is None

    helpdesk.offset_pagination = True
    mapped = zendesk.from_options({**resolve(helpdesk.options()), "map_permissions": True},
                                  settings).changes(None)
    by_uri = {i.uri: i for i in mapped.items}
    assert "articles/369100" not in by_uri  # drafts never
    staff, vip = by_uri["articles/369101"].permissions, by_uri["articles/369102"].permissions
    assert staff is not None and staff.groups == ("zendesk-group-501", "zendesk-group-502")
    assert vip is not None and vip.groups == ("zendesk-segment-12",) and not vip.everyone
    assert by_uri["articles/369103"].permissions_error is not None  # unmappable: fails


def test_zendesk_429_then_change_and_delete(helpdesk: ZendeskHarness,
                                            settings: Settings) -> None:
    connector = zendesk.from_options(resolve(helpdesk.options()), settings)
    helpdesk.server.rate_limit_once = "1"
    first = connector.changes(None)
    assert ("/api/v2/help_center/en-us/articles.json", 429) in helpdesk.server.hits
    assert len(first.items) == 3
    assert connector.changes(first.cursor).items == []
    helpdesk.change("alpha", "Alpha now covers the zebracorn.")
    helpdesk.articles["360002"]["user_segment_id"] = 11  # restricted now: gone, not widened
    third = connector.changes(first.cursor)
    assert [i.uri for i in third.items] == ["articles/360001"]
    assert third.deleted == ["articles/360002"]


async def test_wrong_token_through_a_source_is_recorded_without_the_token(
        helpdesk: ZendeskHarness, make_settings: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from groundwire.bootstrap import build_app
    from groundwire.sources.errors import SourceUnreachable
    from groundwire.sources.service import SourceService

    monkeypatch.setenv("GW_TEST_WRONG_TOKEN", "not-the-right-one")
    settings = make_settings(embedding={"provider": "fake", "model": "fake-32"},
                             autotune={"enabled": False})
    async with build_app(settings) as gw:
        sources = SourceService(gw)
        await sources.add("help", "zendesk",
                          {**helpdesk.options(), "token": "env:GW_TEST_WRONG_TOKEN"},
                          index="docs")
        with pytest.raises(SourceUnreachable) as caught:
            await sources.sync("help")
        assert "zendesk.auth_failed" in caught.value.message
        view = await sources.get("help")
        assert view["last_error"]["code"] == "source.unreachable"
        assert "zendesk.auth_failed" in view["last_error"]["message"]
        assert "not-the-right-one" not in str(view)
        assert view["options"]["token"] == "env:GW_TEST_WRONG_TOKEN"
        with pytest.raises(InvalidRequest) as refused:
            await sources.add("clear", "zendesk", {**helpdesk.options(), "token": TOKEN},
                              index="docs")
        assert refused.value.code == "source.secret_in_clear"
