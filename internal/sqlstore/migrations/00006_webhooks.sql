-- Webhooks to keys' callback URLs and their signing secrets (SPEC §5).

-- +goose Up
-- The signing secret is kept in clear: the sender must sign with it.
CREATE TABLE webhook_secrets (
    workspace_id TEXT PRIMARY KEY REFERENCES workspaces (id) ON DELETE CASCADE,
    secret       TEXT NOT NULL,
    created_at   {{.Time}} NOT NULL
);

-- Deliveries outlive keys, like events and mails (key.deleted is one).
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY, -- the event's id, sent as webhook-id
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    key_id          TEXT NOT NULL,
    url             TEXT NOT NULL,
    type            TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      {{.Time}} NOT NULL,
    delivered_at    {{.Time}},
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at {{.Time}} -- NULL once delivered or given up
);
CREATE INDEX webhook_deliveries_workspace_id ON webhook_deliveries (workspace_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

CREATE TABLE webhook_attempts (
    delivery_id TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at          {{.Time}} NOT NULL,
    status_code INTEGER NOT NULL,
    error       TEXT NOT NULL,
    duration_ns BIGINT NOT NULL
);
CREATE INDEX webhook_attempts_delivery_id ON webhook_attempts (delivery_id, at);

-- +goose Down
DROP TABLE webhook_attempts;
DROP TABLE webhook_deliveries;
DROP TABLE webhook_secrets;
