-- The first schema of latchkey on PostgreSQL: the SQLite store's schema
-- with PostgreSQL's types. Times are TIMESTAMPTZ (microseconds, read back in
-- UTC), hashes BYTEA, JSON documents JSONB, the usage day a DATE. Ids use
-- the "C" collation, so that id order (ULIDs: creation order), which the
-- cursors rely on, is byte order whatever the database's locale.

-- +goose Up
CREATE TABLE users (
    id            TEXT COLLATE "C" PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE, -- lower case, see latchkey.NormalizeEmail
    name          TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL DEFAULT '',
    operator      BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE workspaces (
    id         TEXT COLLATE "C" PRIMARY KEY,
    name       TEXT NOT NULL,
    settings   JSONB NOT NULL, -- latchkey.Settings
    created_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE members (
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role         TEXT NOT NULL,
    active       BOOLEAN NOT NULL DEFAULT TRUE,
    created_at   TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (workspace_id, user_id)
);
CREATE INDEX members_user_id ON members (user_id);

CREATE TABLE keys (
    id                  TEXT COLLATE "C" PRIMARY KEY,
    workspace_id        TEXT COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name                TEXT NOT NULL,
    -- name folded to lower case by the application (strings.ToLower), so
    -- that the name filter folds exactly as the SQLite store's does,
    -- whatever the database's locale.
    name_lower          TEXT NOT NULL,
    description         TEXT NOT NULL DEFAULT '',
    type                TEXT NOT NULL,
    environment         TEXT NOT NULL,
    owner               TEXT COLLATE "C" NOT NULL, -- 'workspace' or a user id: no foreign key
    scopes              JSONB NOT NULL,            -- array of strings
    settings            JSONB NOT NULL,            -- object
    callback_url        TEXT NOT NULL DEFAULT '',
    rate_limit          BIGINT,                    -- NULL with rate_period: no limit
    rate_period         BIGINT,                    -- nanoseconds
    created_by          TEXT NOT NULL DEFAULT '',
    created_at          TIMESTAMPTZ NOT NULL,
    expires_at          TIMESTAMPTZ,
    last_used_at        TIMESTAMPTZ,
    revoked_at          TIMESTAMPTZ,
    revoked_by          TEXT NOT NULL DEFAULT '',
    start               TEXT NOT NULL DEFAULT '',
    hash                BYTEA NOT NULL UNIQUE, -- SHA-256 of the secret
    previous_hash       BYTEA UNIQUE,          -- the secret replaced by a reset with grace
    previous_expires_at TIMESTAMPTZ
);
CREATE INDEX keys_workspace_id ON keys (workspace_id, id);
CREATE INDEX keys_workspace_owner ON keys (workspace_id, owner, id);
CREATE INDEX keys_expires_at ON keys (expires_at);

-- Events have no foreign keys: they outlive the objects they name.
-- workspace_id is '' for platform events (operators, failed logins).
CREATE TABLE events (
    id           TEXT COLLATE "C" PRIMARY KEY,
    workspace_id TEXT COLLATE "C" NOT NULL,
    at           TIMESTAMPTZ NOT NULL,
    actor_type   TEXT NOT NULL,
    actor_id     TEXT COLLATE "C" NOT NULL DEFAULT '',
    actor_label  TEXT NOT NULL DEFAULT '',
    action       TEXT COLLATE "C" NOT NULL,
    target       TEXT COLLATE "C" NOT NULL DEFAULT '',
    ip           TEXT NOT NULL DEFAULT '',
    data         JSONB -- object or NULL
);
CREATE INDEX events_workspace_id ON events (workspace_id, id);
CREATE INDEX events_workspace_target ON events (workspace_id, target, id);
CREATE INDEX events_workspace_actor ON events (workspace_id, actor_id, id);
CREATE INDEX events_at ON events (at);

CREATE TABLE sessions (
    hash       BYTEA PRIMARY KEY, -- SHA-256 of the cookie value
    user_id    TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at TIMESTAMPTZ NOT NULL,
    expires_at TIMESTAMPTZ NOT NULL
);
CREATE INDEX sessions_user_id ON sessions (user_id);
CREATE INDEX sessions_expires_at ON sessions (expires_at);

-- Daily counters, kept after their key is deleted (production usage is
-- what a product bills); workspace_id keeps them in their tenant.
CREATE TABLE key_usage (
    workspace_id TEXT COLLATE "C" NOT NULL,
    key_id       TEXT COLLATE "C" NOT NULL,
    day          DATE NOT NULL, -- UTC
    environment  TEXT COLLATE "C" NOT NULL,
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
