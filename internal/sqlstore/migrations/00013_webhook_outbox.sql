-- Rotating a workspace's webhook signing secret keeps the previous one
-- signing alongside the new one until previous_until, so that receivers
-- can switch secrets without dropping a delivery (Standard Webhooks
-- allows several signatures in webhook-signature).

-- +goose Up
ALTER TABLE webhook_secrets ADD COLUMN previous_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE webhook_secrets ADD COLUMN previous_until {{.Time}};

-- +goose Down
ALTER TABLE webhook_secrets DROP COLUMN previous_until;
ALTER TABLE webhook_secrets DROP COLUMN previous_secret;
