-- 0002: a document is identified by (index, source, uri), so two folders ingested into one
-- index may both hold e.g. README.md without overwriting each other.
ALTER TABLE documents DROP CONSTRAINT documents_index_name_uri_key;
ALTER TABLE documents ADD CONSTRAINT documents_index_source_uri_key
    UNIQUE NULLS NOT DISTINCT (index_name, source_id, uri);
