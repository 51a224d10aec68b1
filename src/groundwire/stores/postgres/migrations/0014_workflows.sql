-- Human-in-the-loop workflows (groundwire/workflows/): inbound events with their drafted
-- replies and review state, every callback delivery attempt, every review decision.

CREATE TABLE IF NOT EXISTS workflow_events (
    id              text PRIMARY KEY,                 -- uuid hex
    workflow        text NOT NULL,
    idempotency_key text NOT NULL,                    -- Idempotency-Key header or the event's id
    tenant          text NOT NULL,
    state           text NOT NULL DEFAULT 'received', -- received, review, approved, rejected,
                                                      -- delivered, delivery_failed
    event           jsonb NOT NULL,                   -- the normalized event (subject, body, ...)
    question        text NOT NULL DEFAULT '',
    draft           text,                             -- the drafted reply
    answer          jsonb,                            -- citations, scores, abstained
    confidence      double precision,
    reply           text,                             -- what was (or will be) delivered
    claimed_by      text,
    claimed_at      timestamptz,
    decided_by      text,
    decided_at      timestamptz,
    edit_distance   double precision,                 -- normalized, draft -> reply (reviewed)
    created_at      timestamptz NOT NULL DEFAULT now(),
    drafted_at      timestamptz,
    updated_at      timestamptz NOT NULL DEFAULT now(),
    UNIQUE (workflow, idempotency_key)
);
CREATE INDEX IF NOT EXISTS workflow_events_queue
    ON workflow_events (workflow, state, created_at);

CREATE TABLE IF NOT EXISTS workflow_deliveries (
    id          bigserial PRIMARY KEY,
    event_id    text NOT NULL REFERENCES workflow_events (id) ON DELETE CASCADE,
    attempt     integer NOT NULL,
    ok          boolean NOT NULL,
    status      integer,                              -- HTTP status (NULL: no response)
    error       text,
    ms          double precision NOT NULL,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS workflow_deliveries_event ON workflow_deliveries (event_id, id);

CREATE TABLE IF NOT EXISTS workflow_decisions (
    id          bigserial PRIMARY KEY,
    event_id    text NOT NULL REFERENCES workflow_events (id) ON DELETE CASCADE,
    action      text NOT NULL,                        -- claim, edit, approve, reject, auto
    actor       text NOT NULL,
    detail      jsonb NOT NULL DEFAULT '{}'::jsonb,
    at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS workflow_decisions_event ON workflow_decisions (event_id, id);
