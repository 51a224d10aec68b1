"""The answer cache: LLM answers keyed by everything that could change them.

Key = normalised question (case, whitespace and trailing punctuation folded) + permission
scope (the request's filters and principal scope) + index name and *generation* (bumped by
every change to what is searchable, so an ingest invalidates every cached answer of that
index — across replicas too, since the generation lives in PostgreSQL) + prompt id and hash
+ the provider chain's models. Entries expire after ``cache.ttl_s``; beyond ``max_entries``
the least recently used go. Only complete, non-degraded LLM answers are cached.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Mapping
from typing import Any

from cachetools import TTLCache

from groundwire.domain import Answer

_SPACE = re.compile(r"\s+")


def normalise_question(question: str) -> str:
    return _SPACE.sub(" ", question.strip().lower()).rstrip(" ?!.")


def cache_key(
    *, question: str, scope: Mapping[str, Any], index: str, generation: int, prompt: str,
    models: str,
) -> str:
    material = json.dumps(
        [normalise_question(question), scope, index, generation, prompt, models],
        sort_keys=True, default=str,
    )
    return hashlib.sha256(material.encode()).hexdigest()


class AnswerCache:
    def __init__(self, *, ttl_s: float, max_entries: int) -> None:
        self._entries: TTLCache[str, Answer] = TTLCache(maxsize=max_entries, ttl=ttl_s)
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> Answer | None:
        with self._lock:
            answer = self._entries.get(key)
            if answer is None:
                self.misses += 1
            else:
                self.hits += 1
            return answer

    def put(self, key: str, answer: Answer) -> None:
        with self._lock:
            self._entries[key] = answer
