"""PostgreSQL + pgvector store: schema migrations, queries, the embedded server."""
