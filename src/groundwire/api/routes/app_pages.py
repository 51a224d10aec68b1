"""The web app's user pages (server-rendered, ``groundwire/web/templates``): conversations
(list, new, rename, delete, ask with a streamed answer), a cited passage in its document, and
upload. Every page needs a key with the ``ask`` scope (upload: ``ingest``); the session, the
CSRF check and the sign-in redirect are ``session.py``'s. Pages call the same services as the
JSON API; the streamed answer and the upload are the API itself (``/v1/conversations/{id}/
messages``, ``/v1/documents/upload``), called by ``static/console.js`` with the CSRF header.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from groundwire.api.authz import tenant_index
from groundwire.api.deps import get_app
from groundwire.api.routes.conversations import service, turn_out
from groundwire.api.routes.session import error_page, form_data, render, viewer
from groundwire.app import Groundwire
from groundwire.conversations.service import ConversationService
from groundwire.errors import Forbidden, GroundwireError, InvalidRequest, NotFound
from groundwire.security.principal import Principal

router = APIRouter(include_in_schema=False)

STATUS = {NotFound: 404, Forbidden: 403, InvalidRequest: 422}


def _status(exc: GroundwireError) -> int:
    return next((s for kind, s in STATUS.items() if isinstance(exc, kind)), 400)


async def _user(request: Request, gw: Groundwire, scope: str) -> Principal | Response:
    who = await viewer(request, gw)
    if isinstance(who, Principal) and not who.allows(scope):
        return error_page(request, Forbidden(f"this API key lacks the {scope!r} scope"), 403,
                          who)
    return who


@router.get("/app", response_class=HTMLResponse)
async def conversations_page(request: Request, gw: Groundwire = Depends(get_app),
                             conversations: ConversationService = Depends(service)) -> Response:
    who = await _user(request, gw, "ask")
    if not isinstance(who, Principal):
        return who
    rows = await conversations.list_conversations(who, limit=100, offset=0)
    return render(request, "conversations.html", {"conversations": rows, "current": None,
                                                  "turns": []}, principal=who)


@router.post("/app/conversations")
async def new_conversation(request: Request, gw: Groundwire = Depends(get_app),
                           conversations: ConversationService = Depends(service)) -> Response:
    who = await _user(request, gw, "ask")
    if not isinstance(who, Principal):
        return who
    form = await form_data(request)
    title = str(form.get("title") or "").strip() or None
    index = str(form.get("index") or "default").strip() or "default"
    try:
        await tenant_index(gw, who, index)
        row = await conversations.create(who, title=title, index=index)
    except GroundwireError as exc:
        return error_page(request, exc, _status(exc), who)
    return RedirectResponse(f"/app/c/{row.id}", status_code=303)


@router.get("/app/c/{conversation_id}", response_class=HTMLResponse)
async def conversation_page(conversation_id: str, request: Request,
                            gw: Groundwire = Depends(get_app),
                            conversations: ConversationService = Depends(service)) -> Response:
    who = await _user(request, gw, "ask")
    if not isinstance(who, Principal):
        return who
    try:
        current, turns = await conversations.get(who, conversation_id)
    except NotFound as exc:
        return error_page(request, exc, 404, who)
    rows = await conversations.list_conversations(who, limit=100, offset=0)
    return render(request, "conversations.html", {
        "conversations": rows, "current": current,
        "turns": [turn_out(t).model_dump(mode="json") for t in turns]}, principal=who)


@router.post("/app/c/{conversation_id}/rename")
async def rename_conversation(conversation_id: str, request: Request,
                              gw: Groundwire = Depends(get_app),
                              conversations: ConversationService = Depends(service)
                              ) -> Response:
    who = await _user(request, gw, "ask")
    if not isinstance(who, Principal):
        return who
    form = await form_data(request)
    title = str(form.get("title") or "").strip()
    try:
        if not title or len(title) > 200:
            raise InvalidRequest("a title has 1 to 200 characters")
        await conversations.rename(who, conversation_id, title)
    except GroundwireError as exc:
        return error_page(request, exc, _status(exc), who)
    return RedirectResponse(f"/app/c/{conversation_id}", status_code=303)


@router.post("/app/c/{conversation_id}/delete")
async def delete_conversation(conversation_id: str, request: Request,
                              gw: Groundwire = Depends(get_app),
                              conversations: ConversationService = Depends(service)
                              ) -> Response:
    who = await _user(request, gw, "ask")
    if not isinstance(who, Principal):
        return who
    await form_data(request)
    try:
        await conversations.delete(who, conversation_id)
    except GroundwireError as exc:
        return error_page(request, exc, _status(exc), who)
    return RedirectResponse("/app", status_code=303)


@router.get("/app/c/{conversation_id}/t/{seq}/cite/{n}", response_class=HTMLResponse)
async def citation_page(conversation_id: str, seq: int, n: int, request: Request,
                        gw: Groundwire = Depends(get_app),
                        conversations: ConversationService = Depends(service)) -> Response:
    """The cited passage inside its document, the quoted sentence marked. The passage is read
    with the caller's permissions now: a document they may no longer read is 404."""
    who = await _user(request, gw, "ask")
    if not isinstance(who, Principal):
        return who
    try:
        current, turns = await conversations.get(who, conversation_id)
        turn = next((t for t in turns if t.seq == seq), None)
        cite = next((c for c in (turn.citations if turn else []) if c.get("n") == n), None)
        if turn is None or cite is None:
            raise NotFound(f"no citation [{n}] in turn {seq} of this conversation")
        access = who.access()
        chunks = await gw.store.chunks_by_id([int(cite["chunk_id"])], access=access)
        chunk = chunks.get(int(cite["chunk_id"]))
        if chunk is None:
            raise NotFound("the cited passage is gone or no longer readable by you")
        document = await gw.store.get_document(chunk.document_id, access)
        nearby = await gw.store.chunks_by_id(
            list(range(max(1, chunk.chunk_id - NEIGHBOURS), chunk.chunk_id + NEIGHBOURS + 1)),
            access=access)
    except GroundwireError as exc:
        return error_page(request, exc, _status(exc), who)
    before, marked, _ = split_quote(chunk.text, str(cite.get("quote") or ""))
    start = chunk.char_start + len(before) if marked else chunk.char_start
    end = start + len(marked) if marked else chunk.char_end
    same = [c for c in nearby.values() if c.document_id == chunk.document_id]
    return render(request, "citation.html", {
        "conversation": current, "turn": turn, "cite": cite, "chunk": chunk,
        "document": document, "segments": stitch(same or [chunk], start, end),
    }, principal=who)


# Chunks of one document are stored together, so their ids are (nearly) consecutive: the
# cited chunk's neighbours rebuild the text around it (the whole document when it is short).
NEIGHBOURS = 40


def stitch(chunks: Sequence[Any], mark_start: int, mark_end: int) -> list[dict[str, Any]]:
    """The document text the ``chunks`` cover, in order, as segments ``{text, mark, gap}``:
    overlaps are dropped (a chunk's ``text`` is ``document[char_start:char_end]``), a hole
    between chunks is a ``gap`` segment, a change of section adds a ``heading`` segment (its
    last heading), and ``[mark_start, mark_end)`` (document offsets) is marked."""
    out: list[dict[str, Any]] = []
    covered: int | None = None
    section: tuple[str, ...] = ()
    for c in sorted(chunks, key=lambda c: (c.char_start, c.char_end)):
        if covered is not None and c.char_end <= covered:
            continue
        if covered is not None and c.char_start > covered:
            out.append({"text": "", "mark": False, "gap": True})
        path = tuple(getattr(c, "heading_path", ()) or ())
        if path and path != section:  # a new section: its heading (usually the hole's text)
            if out and out[-1]["gap"]:
                out.pop()
            out.append({"text": path[-1], "mark": False, "gap": False, "heading": True})
            section = path
        a = c.char_start if covered is None else max(c.char_start, covered)
        text = c.text[a - c.char_start:]
        cuts = sorted({a, a + len(text), *(x for x in (mark_start, mark_end)
                                           if a < x < a + len(text))})
        for lo, hi in zip(cuts, cuts[1:], strict=False):
            out.append({"text": text[lo - a:hi - a], "gap": False,
                        "mark": mark_start <= lo and hi <= mark_end})
        covered = c.char_end
    return out


def split_quote(text: str, quote: str) -> tuple[str, str, str]:
    """``text`` around the first occurrence of ``quote`` (whitespace-insensitive); the whole
    text unmarked when the quote is not in it."""
    quote = quote.strip()
    if not quote:
        return text, "", ""
    at = text.find(quote)
    if at < 0:  # the quote may have normalised whitespace: match word by word
        import re

        pattern = r"\s+".join(re.escape(w) for w in quote.split())
        found = re.search(pattern, text)
        if found is None:
            return text, "", ""
        return text[:found.start()], found.group(0), text[found.end():]
    return text[:at], text[at:at + len(quote)], text[at + len(quote):]


@router.get("/app/upload", response_class=HTMLResponse)
async def upload_page(request: Request, gw: Groundwire = Depends(get_app)) -> Response:
    who = await _user(request, gw, "ingest")
    if not isinstance(who, Principal):
        return who
    indexes: list[Any] = []
    with contextlib.suppress(GroundwireError):
        indexes = await gw.store.list_indexes(who.tenant)
    return render(request, "upload.html", {"indexes": indexes or ["default"],
                                           "max_mb": gw.settings.ingest.max_file_mb},
                  principal=who)
