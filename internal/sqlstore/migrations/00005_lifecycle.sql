-- Expiry notices and the email outbox (SPEC §5).

-- +goose Up
-- One row per key, notice window and expiry: the primary key is what makes
-- a notice go out once, whichever instance races for it. A key reset to a
-- later expiry has no row for its new expiry and is noticed again.
CREATE TABLE key_notices (
    key_id       TEXT NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
    window_ns    BIGINT NOT NULL,
    expires_at   {{.Time}} NOT NULL,
    workspace_id TEXT NOT NULL,
    noticed_at   {{.Time}} NOT NULL,
    PRIMARY KEY (key_id, window_ns, expires_at)
);

-- Mails outlive keys, like events: no foreign key to keys. A workspace's
-- deletion takes its mails.
CREATE TABLE mails (
    id              TEXT PRIMARY KEY,
    workspace_id    TEXT NOT NULL REFERENCES workspaces (id) ON DELETE CASCADE,
    recipient       TEXT NOT NULL,
    subject         TEXT NOT NULL,
    body            TEXT NOT NULL,
    created_at      {{.Time}} NOT NULL,
    sent_at         {{.Time}},
    attempts        INTEGER NOT NULL DEFAULT 0,
    last_error      TEXT NOT NULL DEFAULT '',
    next_attempt_at {{.Time}} -- NULL once sent or given up
);
CREATE INDEX mails_workspace_id ON mails (workspace_id, id);
CREATE INDEX mails_due ON mails (next_attempt_at) WHERE next_attempt_at IS NOT NULL;

-- +goose Down
DROP TABLE mails;
DROP TABLE key_notices;
