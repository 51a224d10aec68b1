-- 0013: conversations (issue 22): multi-turn asking, stored per tenant and user. A turn keeps
-- the question as asked, the standalone query it was rewritten into (what retrieval used),
-- and the answer with its citations. Question and answer texts are stored with credentials
-- and e-mail addresses redacted (safety/redaction.py), as answer records are.
CREATE TABLE conversations (
    id          text PRIMARY KEY,                 -- conv_<32 hex>
    tenant      text NOT NULL,
    owner       text NOT NULL,                    -- the user name within the tenant
    title       text NOT NULL,
    index_name  text NOT NULL DEFAULT 'default',  -- the (logical) index every turn asks
    turns       integer NOT NULL DEFAULT 0,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX conversations_owner ON conversations (tenant, owner, updated_at DESC, id);

CREATE TABLE conversation_turns (
    conversation_id text NOT NULL REFERENCES conversations(id) ON DELETE CASCADE,
    seq             integer NOT NULL,             -- 1, 2, ... within the conversation
    question        text NOT NULL,                -- as the user asked it
    rewritten       text NOT NULL,                -- the standalone query retrieval used
    rewriter        text NOT NULL,                -- none | rules | llm
    answer          text NOT NULL,
    abstained       boolean NOT NULL,
    citations       jsonb NOT NULL DEFAULT '[]'::jsonb,
    record_id       text,                         -- the answer record (feedback)
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (conversation_id, seq)
);
