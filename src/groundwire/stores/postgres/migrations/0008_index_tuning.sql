-- 0008: the self-tuned retrieval settings of an index and the evidence for them
-- (written by `groundwire tune --auto` and by the auto-tune after a material ingest).
CREATE TABLE index_tuning (
    index_name  text PRIMARY KEY REFERENCES indexes(name) ON DELETE CASCADE,
    params      jsonb       NOT NULL,   -- a RetrievalTuning
    evidence    jsonb       NOT NULL,   -- pseudo-question counts, held-out nDCG@10, reason
    generation  bigint      NOT NULL,   -- the index generation it was tuned on
    created_at  timestamptz NOT NULL DEFAULT now()
);
