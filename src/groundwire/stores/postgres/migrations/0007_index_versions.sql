-- 0007: versioned configurations (groundwire/versions/). A logical index name is an alias of a
-- physical index; every version records the configuration tuple it was built with. Without an
-- alias row a name is its own physical index (stores made before versions keep working).
CREATE TABLE index_versions (
    logical     text NOT NULL,
    version     integer NOT NULL,
    physical    text NOT NULL UNIQUE REFERENCES indexes(name) ON DELETE CASCADE,
    config      jsonb NOT NULL,
    fingerprint text NOT NULL,
    overrides   jsonb NOT NULL DEFAULT '{}'::jsonb,
    state       text NOT NULL DEFAULT 'building'
                CHECK (state IN ('building', 'ready', 'failed', 'live', 'retired')),
    contract    jsonb,
    created_at  timestamptz NOT NULL DEFAULT now(),
    promoted_at timestamptz,
    PRIMARY KEY (logical, version)
);

CREATE TABLE index_aliases (
    logical    text PRIMARY KEY,
    physical   text NOT NULL REFERENCES indexes(name),
    previous   text REFERENCES indexes(name) ON DELETE SET NULL,
    generation bigint NOT NULL DEFAULT 0,  -- bumped on every flip (derived caches key on it)
    updated_at timestamptz NOT NULL DEFAULT now()
);
