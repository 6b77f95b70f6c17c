package sqlstore

import (
	"context"
	"maps"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
)

// appendOutcomes adds the statements that count u's outcomes, sorted so
// concurrent flushes lock rows in one order. Like key_usage, a key gone
// from its workspace is skipped.
func (s *Store) appendOutcomes(stmts []Stmt, u latchkey.Usage, d string) []Stmt {
	q := `INSERT INTO key_usage_outcomes (workspace_id, key_id, day, environment, outcome, n)
		SELECT ?, ?, ` + s.db.DateParam() + `, ?, ?, ? WHERE EXISTS (SELECT 1 FROM keys WHERE id = ? AND workspace_id = ?)
		ON CONFLICT (key_id, day, environment, outcome) DO UPDATE SET n = key_usage_outcomes.n + excluded.n`
	for _, o := range slices.Sorted(maps.Keys(u.Outcomes)) {
		n := u.Outcomes[o]
		if n == 0 || unmatchable(o) {
			continue
		}
		stmts = append(stmts, Stmt{q, []any{u.WorkspaceID, u.KeyID, d, string(u.Environment), o, n, u.KeyID, u.WorkspaceID}})
	}
	return stmts
}

// appendTags adds the statements that count u's tags. A tag the key and
// day do not have yet is kept under its own name only while fewer than
// MaxUsageTags are; beyond that it is counted under UsageTagOther. The
// statement decides, in the same transaction that holds the key's
// key_usage row, so flushes from any number of instances keep the cap.
func (s *Store) appendTags(stmts []Stmt, u latchkey.Usage, d string) []Stmt {
	dp := s.db.DateParam()
	q := `INSERT INTO key_usage_tags (workspace_id, key_id, day, tag, verifications, valid)
		SELECT ?, ?, ` + dp + `,
			CASE WHEN ? <> ? AND (
				EXISTS (SELECT 1 FROM key_usage_tags WHERE key_id = ? AND day = ` + dp + ` AND tag = ?)
				OR (SELECT count(*) FROM key_usage_tags WHERE key_id = ? AND day = ` + dp + ` AND tag <> ?) < ?)
			THEN ? ELSE ? END, ?, ?
		WHERE EXISTS (SELECT 1 FROM keys WHERE id = ? AND workspace_id = ?)
		ON CONFLICT (key_id, day, tag) DO UPDATE SET verifications = key_usage_tags.verifications + excluded.verifications,
			valid = key_usage_tags.valid + excluded.valid`
	const other = latchkey.UsageTagOther
	for _, tag := range slices.Sorted(maps.Keys(u.Tags)) {
		c := u.Tags[tag]
		if c.Verifications == 0 || unmatchable(tag) {
			continue
		}
		stmts = append(stmts, Stmt{q, []any{u.WorkspaceID, u.KeyID, d,
			tag, other,
			u.KeyID, d, tag,
			u.KeyID, d, other, latchkey.MaxUsageTags,
			tag, other, c.Verifications, c.Valid,
			u.KeyID, u.WorkspaceID}})
	}
	return stmts
}

// UsageTags returns a key's daily counts per tag for the UTC days from
// from to to, both included, by day then tag. Like Usage it never answers
// ENOTFOUND.
func (s *Store) UsageTags(ctx context.Context, workspaceID, keyID string, from, to time.Time) ([]latchkey.UsageTag, error) {
	if unmatchable(workspaceID, keyID) {
		return []latchkey.UsageTag{}, nil
	}
	rows, err := s.read.Query(ctx, `SELECT day, tag, verifications, valid FROM key_usage_tags
		WHERE workspace_id = ? AND key_id = ? AND day >= `+s.db.DateParam()+` AND day <= `+s.db.DateParam()+`
		ORDER BY day, tag`,
		workspaceID, keyID, from.UTC().Format(dayFormat), to.UTC().Format(dayFormat))
	tags, err := collect(rows, err, func(row Row) (latchkey.UsageTag, error) {
		var t latchkey.UsageTag
		err := row.Scan((*day)(&t.Day), &t.Tag, &t.Verifications, &t.Valid)
		return t, err
	})
	if err != nil {
		return nil, s.wrap(err, "usage tags")
	}
	return tags, nil
}
