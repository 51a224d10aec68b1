"""Conversations: multi-turn asking where follow-up questions are understood.

``rewrite.py`` the deterministic follow-up rewriter (rules), ``rewriter.py`` the rewriter
the service uses (the LLM chain when configured, the rules otherwise), ``service.py`` the
conversations of a user and asking a turn in one (store access through the
``ConversationStore`` port). ``/v1/chat/completions`` uses the same rewriter over its
``messages``. Use-case layer: imports flows and below, never the application.
"""
