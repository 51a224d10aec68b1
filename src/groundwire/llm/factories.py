"""Built-in LLM provider factories, entry points of the ``groundwire.llm_providers`` group
(see ``groundwire.registry``): ``(settings: ProviderSettings, *, max_response_bytes: int) ->
provider``. Importing this module imports no HTTP client."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from groundwire.llm.provider import OpenAICompatibleProvider
    from groundwire.settings import ProviderSettings


def openai(settings: ProviderSettings, *, max_response_bytes: int) -> OpenAICompatibleProvider:
    """``openai``: any OpenAI-compatible ``/chat/completions`` endpoint (OpenAI, Azure OpenAI,
    vLLM, Ollama, llama.cpp server, LM Studio)."""
    from groundwire.llm.provider import OpenAICompatibleProvider

    return OpenAICompatibleProvider(settings, max_response_bytes=max_response_bytes)
