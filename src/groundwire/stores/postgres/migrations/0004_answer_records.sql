-- 0004: answer records (every search and ask, PII-redacted), feedback on them, and alerts
-- raised by the quality monitors (groundwire/monitoring/).
CREATE TABLE answer_records (
    id               uuid PRIMARY KEY,
    created_at       timestamptz NOT NULL,
    kind             text NOT NULL CHECK (kind IN ('search', 'ask')),
    index_name       text NOT NULL,
    principal        text NOT NULL,
    question         text NOT NULL,                    -- PII-redacted before it is stored
    passages         jsonb NOT NULL DEFAULT '[]'::jsonb, -- [{chunk_id, uri, score, ...}]
    answer           text,
    citations        jsonb NOT NULL DEFAULT '[]'::jsonb, -- [{n, chunk_id, uri, support}]
    groundedness     double precision,
    confidence       double precision,
    abstained        boolean NOT NULL DEFAULT false,
    degraded         boolean NOT NULL DEFAULT false,
    degraded_reason  text,
    answerer         text,
    timings          jsonb NOT NULL DEFAULT '{}'::jsonb,  -- stage latencies in ms
    latency_ms       double precision,
    provider         text,
    model            text,
    prompt_id        text,
    prompt_hash      text,
    index_generation bigint,
    cost             double precision,
    usage            jsonb,
    cached           boolean NOT NULL DEFAULT false,
    top_score        double precision,                 -- best dense cosine similarity
    embedding_model  text,
    query_embedding  real[]                            -- for drift and content gaps
);
CREATE INDEX answer_records_created_idx ON answer_records (created_at);
CREATE INDEX answer_records_index_created_idx ON answer_records (index_name, created_at);

CREATE TABLE feedback (
    id               bigserial PRIMARY KEY,
    record_id        uuid NOT NULL REFERENCES answer_records(id) ON DELETE CASCADE,
    created_at       timestamptz NOT NULL DEFAULT now(),
    helpful          boolean NOT NULL,
    comment          text,                              -- PII-redacted
    expected_passage text,                              -- chunk id or uri
    principal        text NOT NULL
);
CREATE INDEX feedback_record_idx ON feedback (record_id);
CREATE INDEX feedback_created_idx ON feedback (created_at);

CREATE TABLE alerts (
    id          bigserial PRIMARY KEY,
    monitor     text NOT NULL,
    index_name  text NOT NULL,
    severity    text NOT NULL,
    value       double precision,
    threshold   double precision,
    message     text NOT NULL,
    details     jsonb NOT NULL DEFAULT '{}'::jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    resolved_at timestamptz
);
-- At most one open alert per monitor and index: replicas evaluating at once raise it once.
CREATE UNIQUE INDEX alerts_open_idx ON alerts (monitor, index_name) WHERE resolved_at IS NULL;
CREATE INDEX alerts_created_idx ON alerts (created_at);
