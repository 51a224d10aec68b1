"""Answering: turn retrieved passages into a cited answer, or abstain."""
