"""The confluence and zendesk factories check their options without I/O; Retry-After and
next-link rules of the shared REST client (``ingest/connectors/rest.py``)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import pytest

from groundwire.errors import ConfigurationError, InvalidRequest
from groundwire.ingest.connectors import confluence, rest, zendesk
from groundwire.settings import Settings


@pytest.fixture
def settings(tmp_path: Any) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.mark.parametrize(("factory", "options", "needle"), [
    (confluence, {"url": "https://x.atlassian.net"}, "space"),
    (confluence, {"url": "ftp://x", "space": "D"}, "url"),
    (confluence, {"url": "https://u:p@x.atlassian.net", "space": "D"}, "url"),
    (confluence, {"url": "https://x.atlassian.net", "space": "D", "colour": 1}, "colour"),
    (confluence, {"url": "https://x.atlassian.net", "space": "D", "email": "a@b"}, "token"),
    (confluence, {"url": "https://x.atlassian.net", "space": "D", "page_size": 999},
     "page_size"),
    (zendesk, {"url": "https://x.zendesk.com", "locale": "en us"}, "locale"),
    (zendesk, {"url": "https://x.zendesk.com", "map_permissions": "yes"}, "map_permissions"),
    (zendesk, {"url": "https://x.zendesk.com", "retries": -1}, "retries"),
])
def test_bad_options_are_refused_by_name(factory: Any, options: dict[str, Any], needle: str,
                                         settings: Settings) -> None:
    with pytest.raises(ConfigurationError) as caught:
        factory.from_options(options, settings)
    assert needle in str(caught.value)


def test_sources_are_stable_and_hold_no_credential(settings: Settings) -> None:
    wiki = confluence.from_options({"url": "https://x.atlassian.net/wiki/", "space": "DOCS",
                                    "email": "a@b.c", "token": "t0ken"}, settings)
    assert wiki.source == ("confluence", "https://x.atlassian.net/wiki/spaces/DOCS")
    desk = zendesk.from_options({"url": "https://x.zendesk.com", "token": "t0ken"}, settings)
    assert desk.source == ("zendesk", "https://x.zendesk.com/hc/en-us")
    assert "t0ken" not in repr(wiki.source) + repr(desk.source)


def test_retry_after_reads_seconds_and_dates() -> None:
    assert rest.retry_after_s("7") == 7.0
    assert rest.retry_after_s(None) == 1.0 and rest.retry_after_s("soon") == 1.0
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 <= rest.retry_after_s(later) <= 31


def test_next_links_never_leave_the_site(settings: Settings) -> None:
    options = rest.common_options("zendesk", {"url": "https://x.zendesk.com"}, settings,
                                  frozenset(), page_size=10, max_page_size=100)
    client = rest.RestClient("zendesk", options)
    assert client.absolute("/api/v2/a.json?x=1") == "https://x.zendesk.com/api/v2/a.json?x=1"
    with pytest.raises(InvalidRequest) as caught:
        client.absolute("https://evil.example.com/api/v2/a.json")
    assert caught.value.code == "zendesk.bad_response"


def test_diff_finds_changed_and_gone_ids() -> None:
    changed, gone = rest.diff({"1": "v1", "2": "v1", "3": "v1"}, {"1": "v1", "2": "v2", "4": "v1"})
    assert changed == {"2", "4"} and gone == ["3"]
    assert rest.diff(None, {"1": "v1"}) == ({"1"}, [])
