-- 0001: indexes, sources, documents, chunks, embeddings (pgvector).
CREATE EXTENSION IF NOT EXISTS vector;

CREATE TABLE indexes (
    name        text PRIMARY KEY,
    generation  bigint      NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sources (
    id          bigserial PRIMARY KEY,
    index_name  text NOT NULL REFERENCES indexes(name) ON DELETE CASCADE,
    kind        text NOT NULL,
    location    text NOT NULL,
    options     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    last_run_at timestamptz,
    UNIQUE (index_name, kind, location)
);

CREATE TABLE documents (
    id                   bigserial PRIMARY KEY,
    index_name           text NOT NULL REFERENCES indexes(name) ON DELETE CASCADE,
    source_id            bigint REFERENCES sources(id) ON DELETE SET NULL,
    uri                  text NOT NULL,
    title                text NOT NULL DEFAULT '',
    media_type           text NOT NULL DEFAULT '',
    content_hash         text,
    pipeline_fingerprint text,
    modified_at          timestamptz,
    size_bytes           bigint,
    metadata             jsonb NOT NULL DEFAULT '{}'::jsonb,
    permissions          jsonb,  -- document-level ACL from the source (enforced by a later release)
    state                text NOT NULL CHECK (state IN ('pending', 'indexed', 'failed')),
    error_code           text,
    error_message        text,
    created_at           timestamptz NOT NULL DEFAULT now(),
    updated_at           timestamptz NOT NULL DEFAULT now(),
    indexed_at           timestamptz,
    UNIQUE (index_name, uri)
);
CREATE INDEX documents_state_idx ON documents (index_name, state);

CREATE TABLE chunks (
    id           bigserial PRIMARY KEY,
    document_id  bigint NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
    position     integer NOT NULL,
    text         text NOT NULL,
    header       text NOT NULL DEFAULT '',
    content_hash text NOT NULL,
    heading_path text[] NOT NULL DEFAULT '{}',
    char_start   integer NOT NULL,
    char_end     integer NOT NULL,
    token_count  integer NOT NULL,
    UNIQUE (document_id, position)
);
CREATE INDEX chunks_content_hash_idx ON chunks (content_hash);

-- One row per (passage text, model): re-ingesting or re-chunking identical text never re-embeds.
-- The column has no fixed dimension so several models can coexist; each model gets its own
-- partial HNSW index on an expression cast to its dimension (created by the store on first use).
CREATE TABLE embeddings (
    content_hash text NOT NULL,
    model_id     text NOT NULL,
    dim          integer NOT NULL,
    embedding    vector NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (content_hash, model_id)
);

CREATE TABLE embedding_models (
    model_id   text PRIMARY KEY,
    dim        integer NOT NULL,
    index_name text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);
