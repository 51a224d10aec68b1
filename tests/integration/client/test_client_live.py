"""``groundwire.client`` against a real ``groundwire serve`` on loopback (``live_server``:
dev mode, the test corpus in ``default``): typed results from every method, SSE events from
``ask_stream``, and the server's error codes as ``GroundwireAPIError``."""

from __future__ import annotations

import pytest
from live_server import LiveServer

from groundwire.client import (
    AskResponse,
    AsyncClient,
    Client,
    DocumentsResponse,
    GroundwireAPIError,
    SearchResponse,
)

pytestmark = pytest.mark.integration


def test_search_ask_documents_feedback_records(live_server: LiveServer) -> None:
    with Client(live_server.base_url) as gw:
        found = gw.search("How much free disk space does the installation need?", top_k=3)
        assert isinstance(found, SearchResponse)
        assert found.hits[0].uri == "guides/install.md"
        only = gw.search("refund", uri_prefix="policies/")
        assert {h.uri for h in only.hits} <= {"policies/security.md"}

        answer = gw.ask("How long are deleted notes kept in the trash?")
        assert isinstance(answer, AskResponse) and not answer.abstained
        assert "14 days" in answer.answer
        assert answer.citations[0].uri == "policies/security.md"

        docs = gw.documents()
        assert isinstance(docs, DocumentsResponse) and docs.counts["indexed"] >= 4
        one = gw.document(docs.documents[0].id)
        assert one.uri == docs.documents[0].uri

        assert answer.record_id is not None
        feedback = gw.feedback(answer.record_id, True, comment="right on")
        assert feedback.record_id == answer.record_id and feedback.helpful
        records = gw.records(kind="ask")
        assert answer.record_id in {r["id"] for r in records}


def test_ask_stream_yields_tokens_then_done(live_server: LiveServer) -> None:
    with Client(live_server.base_url) as gw:
        events = list(gw.ask_stream("Which port must be opened in the firewall?"))
    names = [e.event for e in events]
    assert names[-1] == "done" and "citations" in names
    done = events[-1].answer
    assert done is not None and "7443" in done.answer


def test_errors_carry_the_servers_codes(live_server: LiveServer) -> None:
    with Client(live_server.base_url) as gw:
        with pytest.raises(GroundwireAPIError) as missing:
            gw.search("anything", index="no-such-index")
        with pytest.raises(GroundwireAPIError) as invalid:
            gw.search("anything", top_k=1000)
        with pytest.raises(GroundwireAPIError) as absent:
            gw.document(987654321)
    assert (missing.value.code, missing.value.status) == ("not_found", 404)
    assert invalid.value.status == 422 and invalid.value.code.startswith("request.")
    assert (absent.value.code, absent.value.status) == ("not_found", 404)
    assert absent.value.request_id
    with (Client(live_server.base_url, api_key="gw_nosuch_key") as gw,
          pytest.raises(GroundwireAPIError) as bad_key):
        gw.search("anything")
    assert bad_key.value.status == 401 and bad_key.value.code.startswith("auth.")
    assert "gw_nosuch_key" not in str(bad_key.value)


async def test_async_client(live_server: LiveServer) -> None:
    async with AsyncClient(live_server.base_url) as gw:
        found = await gw.search("support hotline hours", top_k=2)
        assert found.hits[0].uri == "support/hours.md"
        events = [e async for e in gw.ask_stream("When is email support available?")]
        assert events[-1].event == "done" and events[-1].answer is not None
        with pytest.raises(GroundwireAPIError) as missing:
            await gw.ask("anything", index="no-such-index")
    assert missing.value.code == "not_found"


def test_upload(live_server: LiveServer) -> None:
    with Client(live_server.base_url) as gw:
        try:
            result = gw.upload([("glaze.md", b"# Glazes\n\nCeladon glaze fires at cone 10.",
                                 "text/markdown")])
        except GroundwireAPIError as exc:
            if exc.status in (404, 405):
                pytest.skip("this server has no POST /v1/documents/upload")
            raise
        assert result["results"][0]["status"] == "indexed"
        hits = gw.search("celadon glaze cone 10").hits
    assert hits[0].uri.endswith("glaze.md")
