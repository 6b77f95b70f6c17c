-- Keys bound to networks, and the record of leaked secrets.
--
-- allowed_ips is the key's allowlist (a JSON array of canonical CIDR
-- prefixes, empty: anywhere), a column rather than part of settings:
-- settings belong to the key type and the catalog and are returned by
-- verify; an allowlist is a bound on every key and is judged by the
-- key-power rule.
--
-- key_leaks holds one row per leaked secret, keyed by its SHA-256 (the
-- secret itself is never stored): reporting the same leak again finds the
-- row and acts no more. The row lives as long as its key.

-- +goose Up
ALTER TABLE keys ADD COLUMN allowed_ips {{.JSON}} NOT NULL DEFAULT '[]';
CREATE TABLE key_leaks (
    hash         {{.Bytes}} PRIMARY KEY,
    workspace_id {{.ID}} NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key_id       {{.ID}} NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
    token_type   TEXT NOT NULL DEFAULT '',
    url          TEXT NOT NULL DEFAULT '',
    source       TEXT NOT NULL DEFAULT '',
    reporter     TEXT NOT NULL, -- "github" or the id of the reporting key
    action       TEXT NOT NULL, -- revoked, notified
    reported_at  {{.Time}} NOT NULL
);
CREATE INDEX key_leaks_key ON key_leaks (key_id);

-- +goose Down
DROP INDEX key_leaks_key;
DROP TABLE key_leaks;
ALTER TABLE keys DROP COLUMN allowed_ips;
