"""``POST /v1/documents/upload`` on a real ``groundwire serve`` (issue 20 item 3): several
files per request, one result per file; a corrupt PDF fails alone with its code and nothing
else is lost; uploads are searchable; the media type is sniffed from the bytes; re-uploading
is ``unchanged``; the ``ingest`` scope is required; a file over ``ingest.max_file_mb`` fails
``read.too_large``."""

from __future__ import annotations

import gzip
import io
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from live_server import CORPUS, LiveServer, mint_key, running_server

pytestmark = pytest.mark.integration

NOTES = (
    "# Kiln firing log\n\nThe stoneware kiln reached cone 10 after eleven hours, and the "
    "celadon glaze turned a pale jade green on every shelf.\n"
)
PDF_SENTENCE = ("The lighthouse on Skerry Point uses a rotating Fresnel lens that flashes "
                "twice every fifteen seconds.")


def real_pdf() -> bytes:
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    pdf.setTitle("Skerry Point light")
    pdf.drawString(60, 780, PDF_SENTENCE)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def corrupt_pdf() -> bytes:
    data = real_pdf()
    return data[: len(data) // 3]


def post(client: httpx.Client, files: list[tuple[str, bytes, str]], **form: str) -> httpx.Response:
    return client.post("/v1/documents/upload", data=form,
                       files=[("files", (name, data, ctype)) for name, data, ctype in files])


def test_three_files_one_corrupt_two_indexed_then_searchable(live_server: LiveServer) -> None:
    with live_server.client() as client:
        before = client.get("/v1/documents").json()["counts"]
        response = post(client, [
            ("kiln.md", NOTES.encode(), "text/markdown"),
            ("skerry.pdf", real_pdf(), "application/pdf"),
            ("broken.pdf", corrupt_pdf(), "application/pdf"),
        ])
        assert response.status_code == 200, response.text
        results = {r["filename"]: r for r in response.json()["results"]}
        assert [r["filename"] for r in response.json()["results"]] == [
            "kiln.md", "skerry.pdf", "broken.pdf"]
        assert results["kiln.md"]["status"] == "indexed"
        assert results["skerry.pdf"]["status"] == "indexed"
        assert results["skerry.pdf"]["media_type"] == "application/pdf"
        broken = results["broken.pdf"]
        assert broken["status"] == "failed"
        assert broken["code"] == "parse.pdf_invalid"
        assert broken["message"]
        assert all(isinstance(r["document_id"], int) for r in results.values())

        # Nothing else lost: the corpus is all there, plus the two uploads and one failure.
        after = client.get("/v1/documents").json()["counts"]
        assert after.get("indexed", 0) == before.get("indexed", 0) + 2 >= len(CORPUS) + 2
        assert after.get("failed", 0) == before.get("failed", 0) + 1

        hits = client.post("/v1/search", json={"query": "celadon glaze cone 10 kiln"}).json()
        assert hits["hits"][0]["uri"] == "upload/kiln.md", hits
        hits = client.post("/v1/search", json={"query": "Fresnel lens flashes Skerry Point"})
        assert hits.json()["hits"][0]["uri"] == "upload/skerry.pdf"

        # The same bytes again: unchanged, and an upload never deletes earlier uploads.
        again = post(client, [("kiln.md", NOTES.encode(), "text/markdown")]).json()
        assert again["results"][0]["status"] == "unchanged"
        assert again["results"][0]["document_id"] == results["kiln.md"]["document_id"]
        uris = {d["uri"] for d in client.get("/v1/documents", params={"limit": 1000})
                .json()["documents"]}
        assert {"upload/kiln.md", "upload/skerry.pdf", "upload/broken.pdf"} <= uris


def test_media_type_is_sniffed_from_content_not_header_or_name(
    live_server: LiveServer,
) -> None:
    records = gzip.compress(b'{"id": "a", "text": "Tidal turbines spin under the strait."}\n'
                            b'{"id": "a", "text": "duplicate"}\n{"id": "b", "text": \n'
                            b'{"id": "c", "text": "Sea otters crack urchins on rocks."}\n')
    html = (b"<!doctype html><html><body><h1>Terraces</h1><p>Rice terraces of Banaue "
            b"climb the mountain slopes.</p></body></html>")
    with live_server.client() as client:
        response = post(client, [
            ("manual.txt", real_pdf(), "text/plain"),  # a PDF, whatever the name says
            ("page.txt", html, "application/octet-stream"),
            ("feed.jsonl.gz", records, "application/gzip"),
            ("../../etc/passwd", b"just some plain words about sailing", "image/png"),
        ])
        assert response.status_code == 200, response.text
        out = response.json()["results"]
        assert [(r["filename"], r["media_type"], r["status"]) for r in out] == [
            ("manual.txt", "application/pdf", "indexed"),
            ("page.txt", "text/html", "indexed"),
            ("feed.jsonl.gz", "application/x-ndjson", "indexed"),
            ("passwd", "text/plain", "indexed"),
        ]
        assert out[2]["records"] == {"indexed": 2, "unchanged": 0, "failed": 2}
        failed = {d["uri"]: d["error_code"] for d in client.get(
            "/v1/documents", params={"state": "failed", "limit": 1000}).json()["documents"]}
        assert failed["upload/feed.jsonl.gz#a@line-2"] == "parse.record_duplicate"
        assert failed["upload/feed.jsonl.gz#line-3"] == "parse.record_invalid"
        hits = client.post("/v1/search", json={"query": "rice terraces Banaue"}).json()
        assert hits["hits"][0]["uri"] == "upload/page.txt"


def test_upload_needs_the_ingest_scope_and_files(live_server: LiveServer) -> None:
    token = mint_key(live_server, "default", "reader", ("search",))
    with live_server.client(headers={"Authorization": f"Bearer {token}"}) as client:
        denied = post(client, [("a.md", b"# A\n\nalpha", "text/markdown")])
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "auth.forbidden"
    with live_server.client() as client:
        missing = client.post("/v1/documents/upload", data={"index": "default"})
        assert missing.status_code == 422
        assert missing.json()["error"]["code"] == "request.invalid"
        bad_index = post(client, [("a.md", b"# A\n\nalpha", "text/markdown")],
                         index="Not An Index!")
        assert bad_index.status_code == 422
        assert set(bad_index.json()["error"]) >= {"code", "message", "request_id"}


@pytest.fixture(scope="module")
def small_limit_server(
    pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A server whose ingest.max_file_mb is 0.05 (the fake embedder: a fast start)."""
    env = {"GROUNDWIRE_INGEST__MAX_FILE_MB": "0.05", "GROUNDWIRE_EMBEDDING__PROVIDER": "fake"}
    with running_server(pg_admin_url, tmp_path_factory.mktemp("upload"), env) as server:
        yield server


def test_a_file_over_the_limit_fails_alone(small_limit_server: LiveServer, tmp_path: Path) -> None:
    big = ("Ballast water " * 5000).encode()  # ~70 kB > 0.05 MiB
    assert len(big) > 0.05 * 1024 * 1024
    with small_limit_server.client() as client:
        response = post(client, [("big.txt", big, "text/plain"),
                                 ("small.txt", b"Small files still arrive.", "text/plain")])
        assert response.status_code == 200, response.text
        big_result, small_result = response.json()["results"]
        assert (big_result["status"], big_result["code"]) == ("failed", "read.too_large")
        assert small_result["status"] == "indexed"
        doc = client.get(f"/v1/documents/{big_result['document_id']}").json()
        assert doc["state"] == "failed"
    json.dumps(big_result)  # the result is plain JSON


def test_an_uploaded_pdf_is_answered_in_whole_sentences(live_server: LiveServer) -> None:
    """Issue 20 item 8 end to end: a printed-handbook PDF (wrapped and hyphenated lines, a
    running header, page numbers) uploaded, then ``ask`` quotes whole printed sentences."""
    from support.prose_pdf import HEADER, SENTENCES, handbook_pdf

    with live_server.client() as client:
        response = post(client, [("handbook.pdf", handbook_pdf(), "application/pdf")])
        assert response.json()["results"][0]["status"] == "indexed", response.text
        for question, expected in [
            ("How often are codling moth traps checked?", SENTENCES[6]),
            ("When does the orchard manager order a targeted spray?", SENTENCES[7]),
            ("When is the irrigation pump run during dry summers?", SENTENCES[3]),
        ]:
            answer = client.post("/v1/ask", json={"question": question}).json()
            assert not answer["abstained"], answer
            quotes = [c["quote"] for c in answer["citations"]
                      if c["uri"] == "upload/handbook.pdf"]
            assert expected in quotes, (question, quotes)
            for quote in quotes:
                assert quote in SENTENCES, quote  # whole sentences, never a line fragment
            assert HEADER not in answer["answer"] and "Page " not in answer["answer"]
