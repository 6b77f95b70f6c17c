-- Invites and SCIM key requests. Like 00001, written to port to PostgreSQL
-- with type changes only.

-- +goose Up
-- One-time links that let a new user choose a password. Only the SHA-256 of
-- the link's token is kept; accepting deletes every invite of the user.
CREATE TABLE invites (
    hash         BLOB PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    expires_at   BIGINT NOT NULL
);
CREATE INDEX invites_user_id ON invites (user_id, workspace_id);
CREATE INDEX invites_expires_at ON invites (expires_at);

-- Requests that an operator issue a workspace's SCIM key. key_id has no
-- foreign key: the request stays as a record after its key is deleted.
CREATE TABLE scim_key_requests (
    id            TEXT PRIMARY KEY,
    workspace_id  TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    contact_email TEXT NOT NULL,
    integration   TEXT NOT NULL,
    requested_by  TEXT NOT NULL DEFAULT '',
    created_at    BIGINT NOT NULL,
    key_id        TEXT NOT NULL DEFAULT '', -- '' until issued
    issued_by     TEXT NOT NULL DEFAULT '',
    issued_at     BIGINT                    -- NULL while open
);
CREATE INDEX scim_key_requests_workspace ON scim_key_requests (workspace_id, created_at);
CREATE INDEX scim_key_requests_created_at ON scim_key_requests (created_at);

-- The last-owner rule counts a workspace's active owners.
CREATE INDEX members_workspace_role ON members (workspace_id, role, active);

-- +goose Down
DROP INDEX members_workspace_role;
DROP TABLE scim_key_requests;
DROP TABLE invites;
