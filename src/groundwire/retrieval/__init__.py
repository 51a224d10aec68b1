"""Retrieval: in-process BM25 derived from the store, pgvector ANN, weighted fusion."""
