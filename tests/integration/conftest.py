"""Fixtures of the integration tests: ``live_server`` (a real ``groundwire serve`` subprocess
with a small corpus ingested) is defined once in ``tests/live_server.py``."""

from __future__ import annotations

from live_server import live_server  # noqa: F401  (re-exported fixture)
