-- An index's epoch: a random id fixed when the index row is created. Files derived from an
-- index (persisted keyword indexes, retrieval/keyword_snapshots.py) are keyed by (epoch,
-- generation), so a database that was reset, restored or replaced never matches a file
-- written for another one even when the generation numbers coincide.
ALTER TABLE indexes ADD COLUMN IF NOT EXISTS epoch uuid NOT NULL DEFAULT gen_random_uuid();
