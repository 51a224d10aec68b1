"""Shared content-safety detectors: personal data and secrets (``pii``), instruction-like text
aimed at models and text hidden in HTML (``injection``).

Importing this package does no work; recognizers are built on first use and cached per process.
"""
