"""Python client for the Groundwire HTTP API: ``Client`` (sync) and ``AsyncClient`` (asyncio),
both on httpx, with typed results (the server's own response models) and the API's error
codes as ``GroundwireAPIError``. Retries 429 and 503 answers, honouring ``Retry-After``
(bounded by ``RetryPolicy``). See docs/integrations.md.

    from groundwire.client import Client

    with Client("http://127.0.0.1:8000", api_key="gw_...") as gw:
        answer = gw.ask("How do I upgrade?")
        print(answer.answer, [c.uri for c in answer.citations])
"""

from groundwire.client.aio import AsyncClient
from groundwire.client.errors import GroundwireAPIError
from groundwire.client.models import (
    AskEvent,
    AskResponse,
    DocumentOut,
    DocumentsResponse,
    Feedback,
    SearchResponse,
)
from groundwire.client.retry import RetryPolicy
from groundwire.client.sync import Client

__all__ = [
    "AskEvent", "AskResponse", "AsyncClient", "Client", "DocumentOut", "DocumentsResponse",
    "Feedback", "GroundwireAPIError", "RetryPolicy", "SearchResponse",
]
