-- Webhook attempts used to keep the first 200 characters of a failed
-- answer, shown in the Outbox: what an internal service said to a callback
-- URL aimed at it. Keep only the status, and one class for no answer.

-- +goose Up
UPDATE webhook_attempts SET error = CASE WHEN status_code > 0 THEN 'HTTP ' || status_code{{if .Postgres}}::text{{end}} ELSE 'no answer' END
WHERE error <> '';
UPDATE webhook_deliveries SET last_error = COALESCE((SELECT a.error FROM webhook_attempts a
    WHERE a.delivery_id = webhook_deliveries.id ORDER BY a.at DESC LIMIT 1), '')
WHERE last_error <> '';

-- +goose Down
-- What was forgotten stays forgotten.
SELECT 1;
