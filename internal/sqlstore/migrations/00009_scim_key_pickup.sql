-- Operators approve SCIM key requests; the workspace's admins pick the key
-- up, so no operator ever sees its secret.

-- +goose Up
ALTER TABLE scim_key_requests ADD COLUMN approved_by TEXT NOT NULL DEFAULT '';
ALTER TABLE scim_key_requests ADD COLUMN approved_at {{.Time}}; -- NULL until approved
-- Requests issued the old way were approved by whoever issued them.
UPDATE scim_key_requests SET approved_by = issued_by, approved_at = issued_at WHERE issued_at IS NOT NULL;

-- +goose Down
ALTER TABLE scim_key_requests DROP COLUMN approved_at;
ALTER TABLE scim_key_requests DROP COLUMN approved_by;
