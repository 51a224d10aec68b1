-- 0005: tenants, users, groups and API keys; every document belongs to a tenant and carries the
-- reader tokens that may read it (see groundwire/security/principal.py). Documents that existed
-- before this migration belong to tenant 'default' and are readable by its admins only (fail
-- closed): re-ingest them with permissions or set security.default_readers.
CREATE TABLE tenants (
    name       text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
    tenant     text NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, name)
);

CREATE TABLE groups (
    tenant     text NOT NULL REFERENCES tenants(name) ON DELETE CASCADE,
    name       text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (tenant, name)
);

CREATE TABLE group_members (
    tenant     text NOT NULL,
    group_name text NOT NULL,
    user_name  text NOT NULL,
    PRIMARY KEY (tenant, group_name, user_name),
    FOREIGN KEY (tenant, group_name) REFERENCES groups(tenant, name) ON DELETE CASCADE,
    FOREIGN KEY (tenant, user_name) REFERENCES users(tenant, name) ON DELETE CASCADE
);
CREATE INDEX group_members_user_idx ON group_members (tenant, user_name);

-- A key is shown once as gw_<id>_<secret>; only sha256(secret) is stored (the secret is 32
-- random bytes, so a fast hash is enough: there is nothing to brute-force).
CREATE TABLE api_keys (
    id           text PRIMARY KEY,
    tenant       text NOT NULL,
    user_name    text NOT NULL,
    name         text NOT NULL DEFAULT '',
    secret_hash  text NOT NULL,
    scopes       text[] NOT NULL,
    created_at   timestamptz NOT NULL DEFAULT now(),
    expires_at   timestamptz,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    FOREIGN KEY (tenant, user_name) REFERENCES users(tenant, name) ON DELETE CASCADE
);
CREATE INDEX api_keys_user_idx ON api_keys (tenant, user_name);

INSERT INTO tenants (name) VALUES ('default') ON CONFLICT DO NOTHING;

ALTER TABLE documents ADD COLUMN tenant text NOT NULL DEFAULT 'default';
ALTER TABLE documents ADD COLUMN readers text[] NOT NULL DEFAULT '{t:default:admin}';
CREATE INDEX documents_readers_idx ON documents USING gin (readers);
CREATE INDEX documents_tenant_idx ON documents (index_name, tenant, state);

-- A source belongs to a tenant: two tenants may ingest the same location separately.
ALTER TABLE sources ADD COLUMN tenant text NOT NULL DEFAULT 'default';
ALTER TABLE sources DROP CONSTRAINT sources_index_name_kind_location_key;
ALTER TABLE sources ADD CONSTRAINT sources_tenant_index_kind_location_key
    UNIQUE (tenant, index_name, kind, location);
