-- Keys a product can bill by: suspended keys, and the product's own
-- customer id and metadata on every key.
--
-- disabled_at suspends a key until it is enabled again (NULL: enabled);
-- unlike revoked_at it can be cleared. It is a column of keys, so a
-- disable is an UPDATE of the row and PostgreSQL's invalidation trigger
-- tells every instance, as it does for a revocation.
--
-- external_id is the product's id for the key's customer ('' for none),
-- indexed per workspace for the key list's filter; meta is a JSON object
-- ('{}' for none) returned by verification.

-- +goose Up
ALTER TABLE keys ADD COLUMN disabled_at {{.Time}};
ALTER TABLE keys ADD COLUMN disabled_by TEXT NOT NULL DEFAULT '';
ALTER TABLE keys ADD COLUMN external_id TEXT NOT NULL DEFAULT '';
ALTER TABLE keys ADD COLUMN meta {{.JSON}} NOT NULL DEFAULT '{}';
CREATE INDEX keys_external_id ON keys (workspace_id, external_id);

-- +goose Down
DROP INDEX keys_external_id;
ALTER TABLE keys DROP COLUMN meta;
ALTER TABLE keys DROP COLUMN external_id;
ALTER TABLE keys DROP COLUMN disabled_by;
ALTER TABLE keys DROP COLUMN disabled_at;
