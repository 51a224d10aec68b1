"""Versioned configurations: build beside, promote, rollback (see docs/evaluation.md)."""
