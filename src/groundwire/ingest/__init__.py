"""Ingestion: connectors find items, parsers read them, cleaning/chunking shape them, the
pipeline (the only module that knows the stage order) embeds and commits them."""
