"""Groundwire: a self-hosted knowledge assistant with cited, verifiable answers.

The package is layered (see ARCHITECTURE.md): ``domain`` values at the bottom, adapters
(``stores``, ``embedding``, ``ingest.parsers``, ``ingest.connectors``) behind Protocols, flows
(``ingest.pipeline``, ``retrieval``, ``answering``), the ``app`` facade, the ``bootstrap``
composition root, and the edges (``api``, ``cli``, ``web``). Importing the package does no work.
"""

__version__ = "0.1.0"
