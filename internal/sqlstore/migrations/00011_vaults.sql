-- Vaults keep secrets encrypted by envelope (internal/vault): each secret
-- under its own data key, stored only wrapped by a master key that a
-- keeper outside the database holds (keeper_id names it, never its URL
-- when the URL holds key material). A secret saved from a key is linked
-- to it (key_id): deleting the key removes the secret; a revoked key's
-- secret shows so.

-- +goose Up
CREATE TABLE vaults (
    id             {{.ID}} PRIMARY KEY,
    workspace_id   {{.ID}} NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    name           TEXT NOT NULL,
    description    TEXT NOT NULL DEFAULT '',
    reveal_roles   {{.JSON}} NOT NULL,  -- array of roles
    reveal_members {{.JSON}} NOT NULL,  -- array of user ids
    created_by     TEXT NOT NULL DEFAULT '',
    created_at     {{.Time}} NOT NULL
);
CREATE UNIQUE INDEX vaults_name ON vaults (workspace_id, name);
CREATE TABLE vault_secrets (
    id           {{.ID}} PRIMARY KEY,
    workspace_id {{.ID}} NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    vault_id     {{.ID}} NOT NULL REFERENCES vaults (id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    key_id       {{.ID}} UNIQUE REFERENCES keys (id) ON DELETE CASCADE,
    ciphertext   {{.Bytes}} NOT NULL,  -- nonce, AES-256-GCM output and tag
    wrapped_key  {{.Bytes}} NOT NULL,  -- the data key, wrapped by keeper_id
    keeper_id    TEXT NOT NULL,
    created_by   TEXT NOT NULL DEFAULT '',
    created_at   {{.Time}} NOT NULL,
    updated_at   {{.Time}} NOT NULL
);
CREATE UNIQUE INDEX vault_secrets_name ON vault_secrets (vault_id, name);
CREATE INDEX vault_secrets_keeper ON vault_secrets (keeper_id, id);
-- The keepers whose master keys wrap data keys; the latest activated is
-- the one servers wrap with. url is empty where it holds key material
-- (base64key): servers know those from their own configuration.
CREATE TABLE vault_keepers (
    id           TEXT PRIMARY KEY,
    url          TEXT NOT NULL DEFAULT '',
    activated_at {{.Time}} NOT NULL
);

-- +goose Down
DROP TABLE vault_keepers;
DROP TABLE vault_secrets;
DROP TABLE vaults;
