-- 0006: per-key rate-limit token buckets (shared by every API replica) and the audit log
-- (groundwire/security/ratelimit.py, groundwire/security/audit.py).

-- One bucket per (key, route class). ``tokens`` is the fill level at ``updated_at`` (database
-- clock); the refill since then is computed in the one atomic upsert that takes a token.
-- UNLOGGED: a take writes no WAL, so its commit does not wait for a WAL flush (p50 3.6 ms ->
-- 0.13 ms per check on the embedded server); after a crash the buckets start full again.
CREATE UNLOGGED TABLE rate_buckets (
    key         text NOT NULL,
    route_class text NOT NULL,
    tokens      double precision NOT NULL,
    allowed     boolean NOT NULL DEFAULT true,   -- outcome of the last take
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (key, route_class)
);

-- Who did what: every search/ask/chat completion and every admin action. ``details`` holds
-- the action's specifics (PII-redacted question, index, cited documents and the permission
-- entry that admitted each, ...). Append-only from the application's point of view.
CREATE TABLE audit_log (
    id      bigserial PRIMARY KEY,
    at      timestamptz NOT NULL DEFAULT now(),
    tenant  text NOT NULL,
    actor   text NOT NULL,
    action  text NOT NULL,
    target  text,
    details jsonb NOT NULL DEFAULT '{}'::jsonb
);
CREATE INDEX audit_log_at ON audit_log (at, id);
CREATE INDEX audit_log_tenant_at ON audit_log (tenant, at, id);
CREATE INDEX audit_log_action_at ON audit_log (action, at, id);
