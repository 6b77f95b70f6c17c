-- Each workspace's events form a hash chain (see latchkey.ChainHash):
-- every event stores its place (seq), the previous event's hash and its
-- own; event_chains keeps each chain's head, whose row the writers of one
-- workspace take in turn. Events stored before this migration are linked
-- by the store when it opens (SealEvents).

-- +goose Up
ALTER TABLE events ADD COLUMN seq BIGINT;
ALTER TABLE events ADD COLUMN prev_hash {{.Bytes}};
ALTER TABLE events ADD COLUMN hash {{.Bytes}};
CREATE UNIQUE INDEX events_chain ON events (workspace_id, seq);
CREATE INDEX events_unsealed ON events (workspace_id, id) WHERE seq IS NULL;
CREATE INDEX events_workspace_actor_label ON events (workspace_id, actor_label, id);
CREATE TABLE event_chains (
    workspace_id {{.ID}} PRIMARY KEY,
    seq          BIGINT NOT NULL,
    hash         {{.Bytes}} NOT NULL
);

-- +goose Down
DROP TABLE event_chains;
DROP INDEX events_workspace_actor_label;
DROP INDEX events_unsealed;
DROP INDEX events_chain;
ALTER TABLE events DROP COLUMN hash;
ALTER TABLE events DROP COLUMN prev_hash;
ALTER TABLE events DROP COLUMN seq;
