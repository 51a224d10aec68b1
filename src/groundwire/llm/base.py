"""The LLM provider port: what the fallback chain (``llm/chain.py``) drives, and the values a
provider returns. Providers are plug-ins (registry group ``groundwire.llm_providers``, named
by ``llm.providers[].type``); the built-in ``openai`` is ``llm/provider.py``.

Contract for an implementation:

* ``name`` (the configured provider name, unique in the chain) and ``model``;
* ``complete(messages, max_tokens=, temperature=, timeout_s=) -> Completion``;
* ``stream(...)`` yields text deltas (``str``) and ends with exactly one ``Completion``
  holding the whole text;
* every failure raises ``groundwire.errors.ProviderError`` with a stable ``code``
  (``llm.timeout``, ``llm.http_5xx``, ``llm.too_large``, …): the chain decides on the code
  whether to retry, fall back or stop, and the circuit breaker counts them;
* ``aclose()`` releases connections.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    estimated: bool = False

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Completion:
    text: str
    model: str
    finish_reason: str | None
    usage: Usage | None


class LLMProvider(Protocol):
    """One upstream model behind an API (see the module contract)."""

    name: str
    model: str

    async def complete(
        self, messages: Sequence[dict[str, str]], *, max_tokens: int, temperature: float,
        timeout_s: float,
    ) -> Completion: ...

    def stream(
        self, messages: Sequence[dict[str, str]], *, max_tokens: int, temperature: float,
        timeout_s: float,
    ) -> AsyncIterator[str | Completion]: ...

    async def aclose(self) -> None: ...
