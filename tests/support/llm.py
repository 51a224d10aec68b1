"""Helpers for LLM answer-layer tests: a well-behaved model's reply and provider settings
pointing at a fault server."""

from __future__ import annotations

import re
from typing import Any

from support.fault_llm import FaultLLMServer

PASSAGE = re.compile(r'<passage n="(\d+)"[^>]*>\n(.*?)\n</passage>', re.S)
QUESTION = "How much does the Team plan cost per user?"


def grounded_reply(body: dict[str, Any]) -> str:
    """What a well-behaved model answers: the passage sentence most about the question's
    subject, quoted with its citation (so verification finds it supported)."""
    user = next(m["content"] for m in body["messages"] if m["role"] == "user")
    question = user.rsplit("Question:", 1)[-1].lower()
    q_words = set(re.findall(r"\w{4,}", question))
    best, best_score = "", -1
    for n, text in PASSAGE.findall(user):
        for sentence in re.split(r"(?<=[.!?])\s+", text):
            score = len(q_words & set(re.findall(r"\w{4,}", sentence.lower())))
            if score > best_score and len(sentence) > 20:
                best, best_score = f"{sentence.strip()} [{n}]", score
    return best


def provider(name: str, server: FaultLLMServer, **overrides: Any) -> dict[str, Any]:
    return {
        "name": name, "base_url": server.base_url, "model": f"{name}-model",
        "api_key": f"sk-{name}-secret", "connect_timeout_s": 1.0,
        "first_token_timeout_s": 1.5, "stall_timeout_s": 1.0, "total_timeout_s": 4.0,
        **overrides,
    }
