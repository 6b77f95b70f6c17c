-- The first schema of latchkey. It is written to port to PostgreSQL with
-- type changes only: BLOB becomes BYTEA, JSON TEXT may become JSONB.
-- Times are BIGINT unix microseconds (UTC); JSON documents are TEXT.

-- +goose Up
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE, -- lower case, see latchkey.NormalizeEmail
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    operator      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    BIGINT NOT NULL
);

CREATE TABLE workspaces (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    settings   TEXT NOT NULL, -- JSON of latchkey.Settings
    created_at BIGINT NOT NULL
);

CREATE TABLE members (
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   BIGINT NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
-- Memberships(user) and the OwnerActive join reach members by user.
CREATE INDEX members_user_id ON members (user_id);

CREATE TABLE keys (
    id                  TEXT PRIMARY KEY,
    workspace_id        TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    -- name folded to lower case by the application, so that the
    -- case-insensitive name filter means the same on every store and for
    -- non-ASCII names (SQLite's lower() and LIKE fold ASCII only).
    name_lower          TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    type                TEXT NOT NULL,
    environment         TEXT NOT NULL,
    owner               TEXT NOT NULL, -- 'workspace' or a user id: no foreign key
    scopes              TEXT NOT NULL, -- JSON array
    settings            TEXT NOT NULL, -- JSON object
    callback_url        TEXT NOT NULL DEFAULT '',
    rate_limit          BIGINT,        -- NULL with rate_period: no limit
    rate_period         BIGINT,        -- nanoseconds
    created_by          TEXT NOT NULL DEFAULT '',
    created_at          BIGINT NOT NULL,
    expires_at          BIGINT,
    last_used_at        BIGINT,
    revoked_at          BIGINT,
    revoked_by          TEXT NOT NULL DEFAULT '',
    start               TEXT NOT NULL DEFAULT '',
    hash                BLOB NOT NULL UNIQUE, -- SHA-256 of the secret
    previous_hash       BLOB UNIQUE,          -- the secret replaced by a reset with grace
    previous_expires_at BIGINT
);
-- Keys(filter) pages through one workspace by id (ULIDs: creation order).
CREATE INDEX keys_workspace_id ON keys (workspace_id, id);
CREATE INDEX keys_workspace_owner ON keys (workspace_id, owner, id);
-- Expiry jobs scan by time.
CREATE INDEX keys_expires_at ON keys (expires_at);

-- Events have no foreign keys: they outlive the objects they name.
-- workspace_id is '' for platform events (operators, failed logins).
CREATE TABLE events (
    id           TEXT PRIMARY KEY,
    workspace_id TEXT NOT NULL,
    at           BIGINT NOT NULL,
    actor_type   TEXT NOT NULL,
    actor_id     TEXT NOT NULL DEFAULT '',
    actor_label  TEXT NOT NULL DEFAULT '',
    action       TEXT NOT NULL,
    target       TEXT NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    data         TEXT -- JSON object or NULL
);
CREATE INDEX events_workspace_id ON events (workspace_id, id);
CREATE INDEX events_workspace_target ON events (workspace_id, target, id);
CREATE INDEX events_workspace_actor ON events (workspace_id, actor_id, id);
CREATE INDEX events_at ON events (at);

CREATE TABLE sessions (
    hash       BLOB PRIMARY KEY, -- SHA-256 of the cookie value
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Daily counters. No foreign key to keys: production usage is what a product
-- bills, so a deleted key's counts stay; workspace_id keeps them in their tenant.
CREATE TABLE key_usage (
    workspace_id TEXT NOT NULL,
    key_id       TEXT NOT NULL,
    day          TEXT NOT NULL, -- YYYY-MM-DD, UTC (a DATE in PostgreSQL)
    environment  TEXT NOT NULL,
    valid        BIGINT NOT NULL DEFAULT 0,
    denied       BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, day, environment)
);
CREATE INDEX key_usage_workspace_day ON key_usage (workspace_id, day);

-- +goose Down
DROP TABLE key_usage;
DROP TABLE sessions;
DROP TABLE events;
DROP TABLE keys;
DROP TABLE members;
DROP TABLE workspaces;
DROP TABLE users;
