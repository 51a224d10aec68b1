-- Background jobs (issue 8): our own status row per job, beside procrastinate's queue tables
-- (procrastinate_jobs, applied by migrations.py). The row is what the API shows; the task
-- updates it as it runs (state, progress, attempts, worker, result or error).
CREATE TABLE jobs (
    id               text PRIMARY KEY,
    kind             text NOT NULL,                 -- ingest | assessment | version_build
    tenant           text NOT NULL,
    owner            text NOT NULL DEFAULT '',      -- principal name that started it
    state            text NOT NULL DEFAULT 'queued'
                     CHECK (state IN ('queued', 'running', 'succeeded', 'failed', 'cancelled')),
    done             integer NOT NULL DEFAULT 0,
    total            integer NOT NULL DEFAULT 0,
    stage            text NOT NULL DEFAULT '',
    params           jsonb NOT NULL DEFAULT '{}'::jsonb,
    result           jsonb,
    error            jsonb,
    attempts         integer NOT NULL DEFAULT 0,
    worker           text,
    queue_job_id     bigint,                        -- procrastinate_jobs.id of the current run
    created_at       timestamptz NOT NULL DEFAULT now(),
    started_at       timestamptz,
    finished_at      timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX jobs_tenant_state ON jobs (tenant, state, created_at DESC);
CREATE INDEX jobs_queue_job ON jobs (queue_job_id);
