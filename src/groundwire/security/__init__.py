"""Who is calling and what they may read: principals, API keys, document permissions, rate
limits and the audit log. Pure policy lives here; storage is in ``stores/postgres``."""
