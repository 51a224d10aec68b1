-- LLM usage per principal (API key or tenant) and period, for budgets. Counters live in the
-- database, not in process memory, so budgets hold across API replicas and restarts.
CREATE TABLE usage_counters (
    principal  text NOT NULL,
    period     text NOT NULL,            -- 'day:2026-11-26' or 'month:2026-11' (UTC)
    requests   bigint NOT NULL DEFAULT 0,
    tokens     bigint NOT NULL DEFAULT 0,
    cost       double precision NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (principal, period)
);
