-- Usage arrives in an append-only log, folded into the daily counters
-- about once a minute.
--
-- Every instance writes the usage it counted every few seconds. Written
-- straight into key_usage, each of those flushes rewrote a row per key in
-- use, and its outcomes' rows, wherever in the tables that key's day sits:
-- with a million keys, a page per key and flush. A flush now appends its
-- entries at the end of this one table; FoldUsage moves them into
-- key_usage, key_usage_outcomes, key_usage_tags and keys.last_used_at, so
-- a key in steady use has its rows rewritten once per fold rather than
-- once per flush of every instance. Readers add the entries not folded yet.
--
-- outcomes and tags are JSON objects, as latchkey.Usage holds them;
-- last_used_at is NULL for an entry without a valid use. Whether the key
-- still exists in its workspace is checked when the entry is folded (or
-- read), not when it is appended.

-- +goose Up
CREATE TABLE key_usage_log (
    seq          {{.Serial}},
    workspace_id {{.ID}} NOT NULL,
    key_id       {{.ID}} NOT NULL,
    day          {{if .Postgres}}DATE{{else}}TEXT{{end}} NOT NULL,
    environment  {{.ID}} NOT NULL,
    valid        BIGINT NOT NULL,
    denied       BIGINT NOT NULL,
    outcomes     TEXT NOT NULL,
    tags         TEXT NOT NULL,
    last_used_at {{.Time}}
);
CREATE INDEX key_usage_log_key_day ON key_usage_log (key_id, day);

-- +goose Down
-- The entries not folded yet are folded here, so that going back loses
-- no count: totals, outcomes, tags (without the cap on their number,
-- which only the store applies) and last uses.
INSERT INTO key_usage (workspace_id, key_id, day, environment, valid, denied)
    SELECT l.workspace_id, l.key_id, l.day, l.environment, sum(l.valid), sum(l.denied) FROM key_usage_log l
    WHERE EXISTS (SELECT 1 FROM keys k WHERE k.id = l.key_id AND k.workspace_id = l.workspace_id)
    GROUP BY l.workspace_id, l.key_id, l.day, l.environment
    ON CONFLICT (key_id, day, environment)
    DO UPDATE SET valid = key_usage.valid + excluded.valid, denied = key_usage.denied + excluded.denied;
INSERT INTO key_usage_outcomes (workspace_id, key_id, day, environment, outcome, n)
    SELECT l.workspace_id, l.key_id, l.day, l.environment, o.key, sum({{if .Postgres}}o.value::bigint{{else}}o.value{{end}})
    FROM key_usage_log l, {{if .Postgres}}jsonb_each_text(l.outcomes::jsonb){{else}}json_each(l.outcomes){{end}} o
    WHERE EXISTS (SELECT 1 FROM keys k WHERE k.id = l.key_id AND k.workspace_id = l.workspace_id)
    GROUP BY l.workspace_id, l.key_id, l.day, l.environment, o.key
    ON CONFLICT (key_id, day, environment, outcome) DO UPDATE SET n = key_usage_outcomes.n + excluded.n;
INSERT INTO key_usage_tags (workspace_id, key_id, day, tag, verifications, valid)
    SELECT l.workspace_id, l.key_id, l.day, t.key,
        {{if .Postgres}}sum((t.value->>'verifications')::bigint), sum((t.value->>'valid')::bigint){{else}}sum(json_extract(t.value, '$.verifications')), sum(json_extract(t.value, '$.valid')){{end}}
    FROM key_usage_log l, {{if .Postgres}}jsonb_each(l.tags::jsonb){{else}}json_each(l.tags){{end}} t
    WHERE EXISTS (SELECT 1 FROM keys k WHERE k.id = l.key_id AND k.workspace_id = l.workspace_id)
    GROUP BY l.workspace_id, l.key_id, l.day, t.key
    ON CONFLICT (key_id, day, tag) DO UPDATE SET verifications = key_usage_tags.verifications + excluded.verifications,
        valid = key_usage_tags.valid + excluded.valid;
UPDATE keys SET last_used_at = (SELECT max(l.last_used_at) FROM key_usage_log l
        WHERE l.key_id = keys.id AND l.workspace_id = keys.workspace_id)
    WHERE EXISTS (SELECT 1 FROM key_usage_log l WHERE l.key_id = keys.id AND l.workspace_id = keys.workspace_id
        AND l.last_used_at IS NOT NULL AND (keys.last_used_at IS NULL OR l.last_used_at > keys.last_used_at));
DROP TABLE key_usage_log;
