-- Passkeys (WebAuthn credentials) and their ceremonies in flight.

-- +goose Up
CREATE TABLE passkeys (
    id            {{.ID}} PRIMARY KEY,
    user_id       {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    credential_id {{.Bytes}} NOT NULL,
    public_key    {{.Bytes}} NOT NULL,
    sign_count    BIGINT NOT NULL DEFAULT 0,
    transports    TEXT NOT NULL DEFAULT '',
    aaguid        {{.Bytes}},
    flags         INTEGER NOT NULL DEFAULT 0,
    attestation   TEXT NOT NULL DEFAULT '',
    name          TEXT NOT NULL,
    created_at    {{.Time}} NOT NULL,
    last_used_at  {{.Time}}
);
-- A credential id belongs to one account: an assertion names it alone.
CREATE UNIQUE INDEX passkeys_credential_id ON passkeys (credential_id);
CREATE INDEX passkeys_user_id ON passkeys (user_id);

-- The challenge of each ceremony in flight, by the SHA-256 of what binds
-- it to its session or login attempt; taken at first use.
CREATE TABLE passkey_ceremonies (
    hash       {{.Bytes}} PRIMARY KEY,
    kind       TEXT NOT NULL,
    user_id    TEXT NOT NULL DEFAULT '',
    data       {{.Bytes}} NOT NULL,
    expires_at {{.Time}} NOT NULL
);
CREATE INDEX passkey_ceremonies_expires_at ON passkey_ceremonies (expires_at);

-- +goose Down
DROP TABLE passkey_ceremonies;
DROP TABLE passkeys;
