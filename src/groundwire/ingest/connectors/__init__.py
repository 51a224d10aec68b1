"""Connectors find source items (``SourceItem``) to ingest; parsing is not their concern."""

from __future__ import annotations

from groundwire.ingest.connectors.folder import FolderConnector, glob_match

__all__ = ["FolderConnector", "glob_match"]
