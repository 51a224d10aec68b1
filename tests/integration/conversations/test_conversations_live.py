"""Conversations and the OpenAI-compatible endpoint over real HTTP: one ``groundwire serve``
on 127.0.0.1 (real PostgreSQL, real embedding model, the Quillmate corpus), real API keys for
two users of one tenant, and the official ``openai`` SDK as the client.

* ``/v1/conversations``: create, list, get with turns, rename, delete; a follow-up is
  rewritten from the conversation (shown), answered with citations, streamed as SSE; another
  user gets 404 for every operation on it.
* ``/v1/chat/completions`` with the SDK: plain, streamed (the same content, abstention
  included: the bug was a streamed abstention with no text), a follow-up rewritten from the
  earlier messages, and errors (bad key -> 401, invalid model / no messages -> 422).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
from live_server import LiveServer, mint_key, running_server

pytestmark = pytest.mark.integration

FIRST = "What does Quillmate encrypt notes with?"
FOLLOWUP = "How often are its keys rotated?"
OFF_TOPIC = "What is the boiling point of liquid nitrogen on Jupiter's moons?"


@pytest.fixture(scope="module")
def server(pg_admin_url: str, tmp_path_factory: pytest.TempPathFactory
           ) -> Iterator[LiveServer]:
    env = {"GROUNDWIRE_SECURITY__DEFAULT_READERS": json.dumps(["*"])}
    with running_server(pg_admin_url, tmp_path_factory.mktemp("conv"), env) as live:
        yield live


@pytest.fixture(scope="module")
def keys(server: LiveServer) -> dict[str, str]:
    return {user: mint_key(server, "default", user, ("ask",)) for user in ("ann", "bob")}


def _client(server: LiveServer, key: str) -> httpx.Client:
    return server.client(headers={"Authorization": f"Bearer {key}"})


def _sse(response: httpx.Response) -> list[tuple[str, Any]]:
    events, name = [], "message"
    for line in response.iter_lines():
        if line.startswith("event:"):
            name = line[6:].strip()
        elif line.startswith("data:"):
            events.append((name, json.loads(line[5:].strip())))
            name = "message"
    return events


def test_a_conversation_understands_a_followup_and_streams_it(
    server: LiveServer, keys: dict[str, str]
) -> None:
    with _client(server, keys["ann"]) as ann:
        created = ann.post("/v1/conversations", json={})
        assert created.status_code == 201, created.text
        conv = created.json()
        assert conv["turns"] == 0 and conv["index"] == "default"

        first = ann.post(f"/v1/conversations/{conv['id']}/messages", json={"question": FIRST})
        assert first.status_code == 200, first.text
        body = first.json()
        assert body["rewriter"] == "none" and body["rewritten_query"] == FIRST
        assert not body["response"]["abstained"]
        assert any(c["uri"].endswith("security.md") for c in body["response"]["citations"])

        with ann.stream("POST", f"/v1/conversations/{conv['id']}/messages",
                        json={"question": FOLLOWUP, "stream": True}) as streamed:
            assert streamed.status_code == 200
            assert streamed.headers["content-type"].startswith("text/event-stream")
            events = _sse(streamed)
        names = [name for name, _ in events]
        assert names[0] == "rewrite" and names[-1] == "turn"
        assert {"token", "citations", "verification", "done"} <= set(names)
        rewrite = events[0][1]
        assert rewrite["rewriter"] == "rules" and "Quillmate" in rewrite["rewritten_query"]
        done = next(data for name, data in events if name == "done")
        assert "90 days" in done["answer"]
        assert "".join(d["text"] for n, d in events if n == "token") == done["answer"]
        assert events[-1][1]["seq"] == 2

        got = ann.get(f"/v1/conversations/{conv['id']}").json()
        assert got["title"] == FIRST  # named after its first question
        assert [m["seq"] for m in got["messages"]] == [1, 2]
        assert got["messages"][1]["rewritten_query"] == rewrite["rewritten_query"]
        assert got["messages"][1]["citations"]
        listed = ann.get("/v1/conversations").json()["conversations"]
        assert [c["id"] for c in listed] == [conv["id"]]


def test_another_user_gets_404_and_the_owner_can_rename_and_delete(
    server: LiveServer, keys: dict[str, str]
) -> None:
    with _client(server, keys["ann"]) as ann, _client(server, keys["bob"]) as bob:
        conv = ann.post("/v1/conversations", json={"title": "Security questions"}).json()
        url = f"/v1/conversations/{conv['id']}"
        for response in (bob.get(url), bob.patch(url, json={"title": "mine now"}),
                         bob.delete(url),
                         bob.post(f"{url}/messages", json={"question": FIRST})):
            assert response.status_code == 404, response.text
            assert response.json()["error"]["code"] == "not_found"
        assert all(c["id"] != conv["id"]
                   for c in bob.get("/v1/conversations").json()["conversations"])
        missing = ann.get("/v1/conversations/conv_doesnotexist").json()["error"]
        assert missing["code"] == "not_found"

        bad = ann.patch(url, json={"title": ""})
        assert bad.status_code == 422 and bad.json()["error"]["code"] == "request.invalid"
        assert ann.post("/v1/conversations", json={"index": "no-such-index"}).status_code == 404
        assert ann.post(f"{url}/messages", json={"question": ""}).status_code == 422

        renamed = ann.patch(url, json={"title": "Encryption"})
        assert renamed.status_code == 200 and renamed.json()["title"] == "Encryption"
        assert ann.delete(url).status_code == 204
        assert ann.get(url).status_code == 404


@pytest.fixture
def openai_client(server: LiveServer) -> Iterator[Callable[[str], Any]]:
    """An ``openai.OpenAI`` client per key, closed after the test (an unclosed client's pooled
    socket surfaces later as an unraisable ResourceWarning that fails another test)."""
    import openai

    made: list[Any] = []

    def make(key: str) -> Any:
        made.append(openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=key,
                                  max_retries=0, timeout=120))
        return made[-1]

    yield make
    for client in made:
        client.close()


def _streamed(client: Any, messages: list[dict[str, str]]) -> tuple[str, dict[str, Any]]:
    text, extension = "", {}
    for chunk in client.chat.completions.create(model="groundwire", messages=messages,
                                                stream=True):
        if chunk.choices:
            text += chunk.choices[0].delta.content or ""
            extension = (chunk.model_extra or {}).get("groundwire", extension)
    return text, extension


@pytest.mark.parametrize("question", [FIRST, OFF_TOPIC], ids=["answer", "abstention"])
def test_openai_sdk_streamed_and_plain_carry_the_same_content(
    openai_client: Callable[[str], Any], keys: dict[str, str], question: str
) -> None:
    client = openai_client(keys["ann"])
    messages = [{"role": "user", "content": question}]
    plain = client.chat.completions.create(model="groundwire", messages=messages)
    content = plain.choices[0].message.content
    extension = plain.model_extra["groundwire"]
    assert content and extension["abstained"] is (question == OFF_TOPIC)
    text, streamed_extension = _streamed(client, messages)
    assert text == content  # a streamed abstention used to carry no text at all
    assert streamed_extension["abstained"] is extension["abstained"]
    assert streamed_extension["rewriter"] == "none"


def test_openai_sdk_followup_uses_the_earlier_messages(
    openai_client: Callable[[str], Any], keys: dict[str, str]
) -> None:
    client = openai_client(keys["ann"])
    messages = [{"role": "system", "content": "Be brief."},
                {"role": "user", "content": FIRST},
                {"role": "assistant", "content": "With AES-256-GCM at rest [1]."},
                {"role": "user", "content": FOLLOWUP}]
    plain = client.chat.completions.create(model="groundwire", messages=messages)
    extension = plain.model_extra["groundwire"]
    assert extension["rewriter"] == "rules"
    assert "Quillmate" in extension["rewritten_query"]
    assert "90 days" in plain.choices[0].message.content
    text, streamed_extension = _streamed(client, messages)
    assert text == plain.choices[0].message.content
    assert streamed_extension["rewritten_query"] == extension["rewritten_query"]


def test_openai_sdk_errors_are_coded(openai_client: Callable[[str], Any],
                                     keys: dict[str, str]) -> None:
    import openai

    messages = [{"role": "user", "content": FIRST}]
    with pytest.raises(openai.AuthenticationError) as unauthenticated:
        openai_client("gw_bad_notasecret").chat.completions.create(
            model="groundwire", messages=messages)
    assert unauthenticated.value.status_code == 401
    assert unauthenticated.value.body["code"] == "auth.invalid_key"
    client = openai_client(keys["ann"])
    with pytest.raises(openai.UnprocessableEntityError) as bad_model:
        client.chat.completions.create(model="gpt-4o", messages=messages)
    assert bad_model.value.body["code"] == "request.invalid"
    with pytest.raises(openai.UnprocessableEntityError):
        client.chat.completions.create(model="groundwire", messages=[], stream=True)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="groundwire/no-such-index", messages=messages,
                                       stream=True)
