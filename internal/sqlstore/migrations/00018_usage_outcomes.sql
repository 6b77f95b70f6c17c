-- Usage by outcome and by the caller's tags.
--
-- key_usage keeps its valid and denied totals (billing and older readers
-- use them); key_usage_outcomes breaks them down, one row per outcome
-- that happened: 'valid' or the refusal's verify code (key_expired,
-- rate_limited, ...). Rows rather than a column per outcome, so that a new
-- refusal code needs no migration and a day of valid traffic writes one
-- row, not a dozen zeros. Production and demo stay separate rows, as in
-- key_usage. Days counted before this migration carry their valid count
-- here; their refusals were never broken down.
--
-- key_usage_tags counts the verifications carrying each tag (and how many
-- of them were valid), per key and day. A key's environment never changes,
-- so the key says which environment a row is. At most 100 distinct tags
-- per key and day are kept; the store counts any further tag under
-- '(other)', so random tags cannot grow the table without bound.

-- +goose Up
CREATE TABLE key_usage_outcomes (
    workspace_id {{.ID}} NOT NULL,
    key_id       {{.ID}} NOT NULL,
    day          {{if .Postgres}}DATE{{else}}TEXT{{end}} NOT NULL,
    environment  {{.ID}} NOT NULL,
    outcome      {{.ID}} NOT NULL,
    n            BIGINT NOT NULL,
    PRIMARY KEY (key_id, day, environment, outcome)
);
INSERT INTO key_usage_outcomes (workspace_id, key_id, day, environment, outcome, n)
    SELECT workspace_id, key_id, day, environment, 'valid', valid FROM key_usage WHERE valid > 0;
CREATE TABLE key_usage_tags (
    workspace_id  {{.ID}} NOT NULL,
    key_id        {{.ID}} NOT NULL,
    day           {{if .Postgres}}DATE{{else}}TEXT{{end}} NOT NULL,
    tag           {{.ID}} NOT NULL,
    verifications BIGINT NOT NULL,
    valid         BIGINT NOT NULL,
    PRIMARY KEY (key_id, day, tag)
);

-- +goose Down
DROP TABLE key_usage_tags;
DROP TABLE key_usage_outcomes;
