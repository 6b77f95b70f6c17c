-- Single sign-on per workspace and second factors per user.

-- +goose Up
-- How a session signed in and which step it still waits for. A session
-- without a row signed in with a password and is complete.
CREATE TABLE session_signins (
    hash             {{.Bytes}} PRIMARY KEY REFERENCES sessions (hash) ON DELETE CASCADE,
    method           TEXT NOT NULL,
    pending          TEXT NOT NULL DEFAULT '',
    sso_workspace_id TEXT NOT NULL DEFAULT ''
);

CREATE TABLE mfa_totp (
    user_id       {{.ID}} PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    sealed_secret {{.Bytes}} NOT NULL,
    created_at    {{.Time}} NOT NULL,
    confirmed_at  {{.Time}},
    last_step     BIGINT NOT NULL DEFAULT 0
);

-- One-time recovery codes, by their SHA-256 only.
CREATE TABLE mfa_recovery_codes (
    id       {{.Serial}},
    user_id  {{.ID}} NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    hash     {{.Bytes}} NOT NULL,
    used_at  {{.Time}}
);
CREATE INDEX mfa_recovery_codes_user_id ON mfa_recovery_codes (user_id);

CREATE TABLE sso_configs (
    workspace_id  {{.ID}} PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    issuer        TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    sealed_secret {{.Bytes}},
    require_sso   BOOLEAN NOT NULL DEFAULT FALSE,
    just_in_time  BOOLEAN NOT NULL DEFAULT FALSE,
    updated_at    {{.Time}} NOT NULL
);

CREATE TABLE sso_domains (
    workspace_id {{.ID}} NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    domain       TEXT NOT NULL,
    token        TEXT NOT NULL,
    created_at   {{.Time}} NOT NULL,
    verified_at  {{.Time}},
    PRIMARY KEY (workspace_id, domain)
);
-- A domain is verified by one workspace at most: whoever proves it first.
CREATE UNIQUE INDEX sso_domains_verified ON sso_domains (domain) WHERE verified_at IS NOT NULL;

-- Authorization requests in flight, by the SHA-256 of their state.
CREATE TABLE sso_states (
    hash         {{.Bytes}} PRIMARY KEY,
    workspace_id {{.ID}} NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    email        TEXT NOT NULL,
    nonce        TEXT NOT NULL,
    verifier     TEXT NOT NULL,
    next         TEXT NOT NULL,
    expires_at   {{.Time}} NOT NULL
);
CREATE INDEX sso_states_expires_at ON sso_states (expires_at);

-- +goose Down
DROP TABLE sso_states;
DROP TABLE sso_domains;
DROP TABLE sso_configs;
DROP TABLE mfa_recovery_codes;
DROP TABLE mfa_totp;
DROP TABLE session_signins;
