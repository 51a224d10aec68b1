"""A source added by someone other than the operator never reaches what only the server
can: the embedded database's socket, loopback, link-local (cloud metadata), or a bucket
through the server's own AWS credentials."""

from __future__ import annotations

import pytest

from groundwire.sources.reach import host_refusal, refusal


@pytest.mark.parametrize(("source_type", "options"), [
    ("sql", {"url": "postgresql+psycopg://postgres@/groundwire?host=/tmp/gw/pgdata",
             "query": "SELECT * FROM api_keys"}),
    ("sql", {"url": "postgresql://postgres@127.0.0.1:5432/groundwire", "query": "SELECT 1"}),
    ("sql", {"url": "postgresql://postgres@db.example.com/x?hostaddr=127.0.0.1",
             "query": "SELECT 1"}),
    ("sql", {"url": "mysql+pymysql://u@localhost/x", "query": "SELECT 1"}),
    ("sql", {"url": "sqlite:////var/lib/groundwire/other.db", "query": "SELECT 1"}),
    ("web", {"url": "http://169.254.169.254/latest/meta-data/"}),
    ("web", {"url": "http://[::1]:8000/"}),
    ("web", {"url": "http://[::ffff:127.0.0.1]/"}),
    ("web", {"url": "http://0.0.0.0:8000/"}),
    ("web", {"url": "http://admin.localhost/"}),
    ("confluence", {"url": "http://127.0.0.2:8090", "space": "DOCS"}),
    ("zendesk", {"url": "http://localhost:9000"}),
    ("s3", {"bucket": "private-docs"}),
    ("s3", {"bucket": "b", "anonymous": True, "endpoint_url": "http://127.0.0.1:9000"}),
])
def test_the_servers_own_reach_is_refused(source_type: str, options: dict[str, object]) -> None:
    assert refusal(source_type, options) is not None


@pytest.mark.parametrize(("source_type", "options"), [
    ("sql", {"url": "postgresql+psycopg://reader@db.example.com:5432/crm", "query": "SELECT 1"}),
    ("sql", {"url": "mysql+pymysql://reader@10.0.4.7/kb", "query": "SELECT 1"}),
    ("web", {"url": "https://docs.example.com/sitemap.xml"}),
    ("confluence", {"url": "https://example.atlassian.net", "space": "DOCS"}),
    ("zendesk", {"url": "https://example.zendesk.com"}),
    ("s3", {"bucket": "public-datasets", "anonymous": True}),
    ("git", {"repo": "https://git.example.com/docs.git"}),
])
def test_ordinary_remote_sources_pass(source_type: str, options: dict[str, object]) -> None:
    assert refusal(source_type, options) is None


def test_hosts() -> None:
    assert host_refusal(None) and host_refusal("")
    assert host_refusal("LOCALHOST.") and host_refusal("127.8.0.1") and host_refusal("fe80::1")
    assert host_refusal("example.com") is None and host_refusal("203.0.113.9") is None
