-- Keys a product can bill by: credits, and rate limits held across every
-- instance.
--
-- key_budgets holds the live counters of a key's budgets: its credits
-- (name '') and one row per named rate limit's current window. Instances
-- lease blocks from a row in one locked step and spend them in memory, so
-- a row changes a few times a second at most, never per verification. It
-- is a table of its own because an UPDATE of keys tells every instance to
-- drop its cached copy of the key.
--
--   remaining     units not leased to any instance
--   leased        units leased out and not settled yet (spent or not)
--   period_start  credits: when remaining was last set (by a person or a
--                 refill); a limit: the start of its current window
--   generation    changes whenever the row is reset (an edit, a refill, a
--                 new window): a lease of another generation is void and
--                 settles nothing, so a reset can never be topped up by
--                 leases cut before it
--   refill_*      the credits' refill rule ('' and 0: none); limits carry
--                 their rule in keys.ratelimits
--
-- keys.ratelimits is the JSON array of the key's named limits.
-- keys.credits_version counts the times the key's credits were set: the
-- change is then an UPDATE of keys, which tells every instance (through
-- the invalidation trigger on PostgreSQL) to drop its cached key and void
-- its leases, as for any other change of the key.

-- +goose Up
ALTER TABLE keys ADD COLUMN ratelimits {{.JSON}} NOT NULL DEFAULT '[]';
ALTER TABLE keys ADD COLUMN credits_version BIGINT NOT NULL DEFAULT 0;
CREATE TABLE key_budgets (
    key_id          {{.ID}} NOT NULL REFERENCES keys (id) ON DELETE CASCADE,
    name            TEXT NOT NULL,
    remaining       BIGINT NOT NULL,
    leased          BIGINT NOT NULL DEFAULT 0,
    period_start    {{.Time}} NOT NULL,
    generation      BIGINT NOT NULL,
    refill_interval TEXT NOT NULL DEFAULT '',
    refill_amount   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (key_id, name)
);

-- +goose Down
DROP TABLE key_budgets;
ALTER TABLE keys DROP COLUMN credits_version;
ALTER TABLE keys DROP COLUMN ratelimits;
