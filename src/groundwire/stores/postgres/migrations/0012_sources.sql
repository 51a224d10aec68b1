-- 0012: named sources (issue 20): a connector type with its options, the index and tenant it
-- feeds, an optional schedule, and what its last sync did. Options are stored as given:
-- credentials only as `env:VAR` / `file:/path` references (sources/secrets.py refuses clear
-- secrets), resolved at sync time and never written back.
CREATE TABLE named_sources (
    tenant        text        NOT NULL,
    name          text        NOT NULL,
    type          text        NOT NULL,             -- a groundwire.connectors entry point
    options       jsonb       NOT NULL DEFAULT '{}'::jsonb,
    index_name    text        NOT NULL,
    schedule      text,                             -- "every 15m" or a cron expression
    next_run_at   timestamptz,                      -- when the scheduler queues it next
    cursor        jsonb,                            -- the connector's incremental state
    last_sync_at  timestamptz,
    last_status   text,                             -- ok | failed | unreachable
    last_error    jsonb,                            -- {"code", "message"} of the last failure
    last_report   jsonb,                            -- the last sync's IngestReport.as_json()
    created_at    timestamptz NOT NULL DEFAULT now(),
    updated_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, name)
);
CREATE INDEX named_sources_due ON named_sources (next_run_at) WHERE next_run_at IS NOT NULL;
