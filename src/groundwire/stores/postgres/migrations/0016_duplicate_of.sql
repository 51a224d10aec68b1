-- Near-duplicates at ingest (stores/postgres/duplicates.py, groundwire/minhash.py): a
-- document that is a near-duplicate of a newer one is kept but points at it; retrieval
-- leaves such documents out unless ingest.near_duplicates.include_in_search is set.
-- Deleting the kept document makes its duplicates searchable again (ON DELETE SET NULL).
-- minhash: the MinHash signature (little-endian uint32 values, 512 bytes for 128
-- permutations); minhash_bands: its LSH band keys (salted with index and tenant),
-- GIN-indexed, so a new document finds its candidates with one indexed overlap query
-- instead of re-reading any text.
ALTER TABLE documents ADD COLUMN IF NOT EXISTS duplicate_of bigint
    REFERENCES documents(id) ON DELETE SET NULL;
ALTER TABLE documents ADD COLUMN IF NOT EXISTS minhash bytea;
ALTER TABLE documents ADD COLUMN IF NOT EXISTS minhash_bands bigint[];
CREATE INDEX IF NOT EXISTS documents_duplicate_of_idx ON documents (duplicate_of)
    WHERE duplicate_of IS NOT NULL;
-- fastupdate off: ingest inserts a batch and at once looks its bands up; a pending list
-- would be scanned linearly by every lookup.
CREATE INDEX IF NOT EXISTS documents_minhash_bands_idx ON documents USING gin (minhash_bands)
    WITH (fastupdate = off);
