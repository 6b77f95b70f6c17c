-- Invites and SCIM key requests, as in the SQLite store's 00002.

-- +goose Up
CREATE TABLE invites (
    hash         BYTEA PRIMARY KEY, -- SHA-256 of the invite link's token
    user_id      TEXT COLLATE "C" NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id TEXT COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL
);
CREATE INDEX invites_user_id ON invites (user_id, workspace_id);
CREATE INDEX invites_expires_at ON invites (expires_at);

-- key_id has no foreign key: the request stays as a record after its key
-- is deleted.
CREATE TABLE scim_key_requests (
    id            TEXT COLLATE "C" PRIMARY KEY,
    workspace_id  TEXT COLLATE "C" NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    contact_email TEXT NOT NULL,
    integration   TEXT NOT NULL,
    requested_by  TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMPTZ NOT NULL,
    key_id        TEXT COLLATE "C" NOT NULL DEFAULT '', -- '' until issued
    issued_by     TEXT NOT NULL DEFAULT '',
    issued_at     TIMESTAMPTZ                           -- NULL while open
);
CREATE INDEX scim_key_requests_workspace ON scim_key_requests (workspace_id, created_at);
CREATE INDEX scim_key_requests_created_at ON scim_key_requests (created_at);

CREATE INDEX members_workspace_role ON members (workspace_id, role, active);

-- +goose Down
DROP INDEX members_workspace_role;
DROP TABLE scim_key_requests;
DROP TABLE invites;
