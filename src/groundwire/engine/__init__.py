"""Engines: one ``IndexEngine`` per index configuration (version), built and cached by the
``EngineFactory``. See ``engine/engine.py`` and ``engine/factory.py``."""

from groundwire.engine.engine import IndexEngine, IngestLocks
from groundwire.engine.factory import EngineFactory

__all__ = ["EngineFactory", "IndexEngine", "IngestLocks"]
