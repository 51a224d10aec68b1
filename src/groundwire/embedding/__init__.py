"""Embedding adapters behind the ``Embedder`` protocol."""
