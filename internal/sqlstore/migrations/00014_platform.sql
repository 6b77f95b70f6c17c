-- Platform keys: the vendor's backend provisions workspaces and members and
-- mints portal sessions. They are kept apart from the keys table, which the
-- verify path and its cache serve: a platform key must never verify as a
-- product key, and it is looked up in the store at every call, so its
-- revocation holds on every instance at once without a cache to invalidate.
-- Times, JSON documents, bytes and ids take each database's types, as everywhere in this schema.

-- +goose Up
CREATE TABLE platform_keys (
    id         {{.ID}} PRIMARY KEY,
    name       TEXT NOT NULL,
    product    TEXT NOT NULL,        -- the product whose workspaces and people the key manages
    scopes     {{.JSON}} NOT NULL,       -- JSON array of platform scopes
    max_role   TEXT NOT NULL,        -- the highest role it may assert or grant
    start      TEXT NOT NULL,
    hash       {{.Bytes}} NOT NULL UNIQUE, -- SHA-256 of the secret
    created_by TEXT NOT NULL DEFAULT '',
    created_at {{.Time}} NOT NULL,
    revoked_at {{.Time}},
    revoked_by TEXT NOT NULL DEFAULT ''
);

-- A workspace provisioned by a product, under the product's own id for the
-- customer: one workspace per (product, external_id), so a retried signup
-- finds the first one.
CREATE TABLE platform_workspaces (
    workspace_id {{.ID}} PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    product      TEXT NOT NULL,
    external_id  TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '', -- the platform key
    UNIQUE (product, external_id)
);

-- A portal identity: a person of the product, known by the product's user
-- id within one workspace. It is an unclaimed user that no invitation can
-- be made for, so it never gets a password, never logs in by email and is
-- never merged; it belongs to its workspace alone.
CREATE TABLE portal_identities (
    user_id      {{.ID}} PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    workspace_id {{.ID}} NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    external_id  TEXT NOT NULL,
    UNIQUE (workspace_id, external_id)
);

-- One-time portal sign-in links; only the SHA-256 of the token is kept.
CREATE TABLE portal_tokens (
    hash         {{.Bytes}} PRIMARY KEY,
    user_id      {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    workspace_id {{.ID}} NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key_id       TEXT NOT NULL, -- the platform key that minted it
    return_url   TEXT NOT NULL DEFAULT '',
    created_at   {{.Time}} NOT NULL,
    expires_at   {{.Time}} NOT NULL,
    used_at      {{.Time}}
);
CREATE INDEX portal_tokens_user_id ON portal_tokens (user_id);
CREATE INDEX portal_tokens_expires_at ON portal_tokens (expires_at);

-- +goose Down
DROP TABLE portal_tokens;
DROP TABLE portal_identities;
DROP TABLE platform_workspaces;
DROP TABLE platform_keys;
