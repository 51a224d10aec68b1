"""Connectors find source items (``SourceItem``) to ingest; parsing is not their concern.

``base.Connector`` is the port (its docstring is the contract); connectors are registered
by kind in the ``groundwire.connectors`` entry point group (``groundwire.registry``).
"""

from __future__ import annotations

from groundwire.ingest.connectors.base import Connector
from groundwire.ingest.connectors.folder import FolderConnector, glob_match

__all__ = ["Connector", "FolderConnector", "glob_match"]
