-- 0010: store embeddings as halfvec (2 bytes per dimension instead of 4).
-- Measured (docs/benchmarks.md, "Scale"): HNSW recall@10 over halfvec equals vector's within
-- noise at 100k chunks while the table and each HNSW index shrink by about half. Existing
-- vectors are converted in place; each model's partial HNSW index is dropped before the
-- column changes type and rebuilt over embedding::halfvec(dim) with halfvec_cosine_ops
-- (pgvector's defaults m = 16, ef_construction = 64; the store builds new models' indexes
-- with retrieval.hnsw_m / retrieval.hnsw_ef_construction).
DO $$
DECLARE
    m record;
BEGIN
    FOR m IN SELECT index_name FROM embedding_models LOOP
        EXECUTE format('DROP INDEX IF EXISTS %I', m.index_name);
    END LOOP;
END
$$;

ALTER TABLE embeddings ALTER COLUMN embedding TYPE halfvec USING embedding::halfvec;

DO $$
DECLARE
    m record;
BEGIN
    FOR m IN SELECT model_id, dim, index_name FROM embedding_models LOOP
        EXECUTE format(
            'CREATE INDEX %I ON embeddings USING hnsw ((embedding::halfvec(%s)) halfvec_cosine_ops)'
            ' WHERE model_id = %L',
            m.index_name, m.dim, m.model_id);
    END LOOP;
END
$$;
