"""Connector specifics against real sources: the web crawl on a real loopback HTTP server
(robots.txt, sitemap, redirect, 404, conditional requests, a page failing for a while) and
the git connector on a real repository (links to the file at its commit, history rewritten
by a force push)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sources_harness import GitHarness, WebHarness, git

from groundwire.errors import InvalidRequest
from groundwire.ingest.connectors import git as git_connector
from groundwire.ingest.connectors import web
from groundwire.settings import Settings

pytestmark = pytest.mark.integration


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(data_dir=tmp_path / "data")


@pytest.fixture
def site(tmp_path: Path):  # type: ignore[no-untyped-def]
    harness = WebHarness(tmp_path)
    yield harness
    harness.close()


def test_web_crawl_obeys_robots_follows_redirects_and_sitemap(site: WebHarness,
                                                             settings: Settings) -> None:
    connector = web.from_options(site.options(), settings)
    first = connector.changes(None)
    uris = sorted(item.uri for item in first.items)
    base = site.site.base
    assert uris == sorted([f"{base}/index.html", f"{base}/alpha.html", f"{base}/beta.html",
                           f"{base}/gamma.html", f"{base}/moved.html"])  # gamma: sitemap only
    assert first.complete and not first.deleted
    assert ("/private.html", 200) not in site.site.hits  # disallowed: never fetched
    assert ("/missing.html", 404) in site.site.hits
    alpha = next(i for i in first.items if i.uri.endswith("/alpha.html"))
    assert alpha.title == "Alpha" and "harbour lantern" in (alpha.text or "")
    assert "Boilerplate Footer" not in (alpha.text or "")

    site.site.hits.clear()
    second = connector.changes(first.cursor)
    assert second.items == [] and second.deleted == [] and not second.complete
    statuses = dict(site.site.hits)
    assert statuses["/alpha.html"] == 304 and statuses["/index.html"] == 304

    site.change("alpha", "Alpha now covers the zebracorn. " * 20)
    third = connector.changes(second.cursor)
    assert [i.uri for i in third.items] == [f"{base}/alpha.html"]
    assert "zebracorn" in (third.items[0].text or "")

    # a page failing for a while is kept, not deleted; a page gone (404) is deleted
    site.site.put("/beta.html", "overloaded", status=503, content_type="text/plain")
    site.site.pages.pop("/gamma.html")
    fourth = connector.changes(third.cursor)
    assert fourth.deleted == [f"{base}/gamma.html"]
    assert fourth.items == []


def test_web_outage_raises_before_listing(site: WebHarness, settings: Settings) -> None:
    connector = web.from_options(site.options(), settings)
    cursor = connector.changes(None).cursor
    with site.outage(), pytest.raises(InvalidRequest) as caught:
        connector.changes(cursor)
    assert caught.value.code == "web.unreachable"
    site.site.put("/index.html", "down for maintenance", status=503, content_type="text/plain")
    with pytest.raises(InvalidRequest):
        connector.changes(cursor)


def test_git_links_to_the_commit_and_survives_a_force_push(tmp_path: Path,
                                                          settings: Settings) -> None:
    repo = GitHarness(tmp_path)
    connector = git_connector.from_options(
        {**repo.options(), "link": "https://git.example.com/docs/blob/{commit}/{path}"},
        settings)
    first = connector.changes(None)
    head = git(repo.repo, "rev-parse", "HEAD").strip()
    alpha = next(i for i in first.items if i.uri == "docs/alpha.md")
    assert alpha.metadata["url"] == f"https://git.example.com/docs/blob/{head}/docs/alpha.md"
    assert all(not i.uri.endswith(".bin") for i in first.items)  # outside include

    repo.change("alpha", "rewritten")
    second = connector.changes(first.cursor)
    assert [i.uri for i in second.items] == ["docs/alpha.md"] and not second.complete
    assert second.items[0].read() == b"# alpha\n\nrewritten\n"

    # rewrite history: the new tip shares no ancestry with the cursor's commit
    git(repo.repo, "checkout", "-q", "--orphan", "fresh")
    git(repo.repo, "rm", "-q", "-r", "--cached", ".")
    (repo.repo / "docs" / "beta.md").unlink()
    repo.commit("fresh start")
    git(repo.repo, "branch", "-q", "-f", "main", "fresh")
    third = connector.changes(second.cursor)
    assert third.deleted == ["docs/beta.md"]
    assert not third.complete
