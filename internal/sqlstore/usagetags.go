package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
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

// appendTags adds the statements that count u's tags, in the order they
// came. A tag the key and day do not have yet is kept under its own name
// only while fewer than MaxUsageTags are; beyond that it is counted under
// UsageTagOther. The statement decides, in the same transaction that
// holds the key's key_usage row, so folds from any number of instances
// keep the cap.
func (s *Store) appendTags(stmts []Stmt, u latchkey.Usage, order []string, d string) []Stmt {
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
	for _, tag := range order {
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
// from to to, both included, by day then tag, counting the log's entries
// not folded yet as a fold will: a tag the day does not have yet is
// counted under its name only while the day has fewer than MaxUsageTags,
// the first to come first. Like Usage it reads in one statement and never
// answers ENOTFOUND.
func (s *Store) UsageTags(ctx context.Context, workspaceID, keyID string, from, to time.Time) ([]latchkey.UsageTag, error) {
	if unmatchable(workspaceID, keyID) {
		return []latchkey.UsageTag{}, nil
	}
	f, t := from.UTC().Format(dayFormat), to.UTC().Format(dayFormat)
	dp := s.db.DateParam()
	inRange := `workspace_id = ? AND key_id = ? AND day >= ` + dp + ` AND day <= ` + dp
	// A counter row has a tag and its counts; a log row has its seq and
	// its entry's tags.
	rows, err := s.read.Query(ctx, `SELECT 0, day, tag, verifications, valid, 0, '', '' FROM key_usage_tags WHERE `+inRange+`
		UNION ALL SELECT 1, day, '', 0, 0, seq, environment, tags FROM key_usage_log WHERE `+inRange+`
			AND EXISTS (SELECT 1 FROM keys WHERE id = ? AND workspace_id = ?)`,
		workspaceID, keyID, f, t, workspaceID, keyID, f, t, keyID, workspaceID)
	type part struct {
		src     int // 0: a counter row, 1: a log row
		counted latchkey.UsageTag
		logged  logEntry
		tags    string
	}
	parts, err := collect(rows, err, func(row Row) (part, error) {
		var p part
		err := row.Scan(&p.src, (*day)(&p.counted.Day), &p.counted.Tag, &p.counted.Verifications, &p.counted.Valid,
			&p.logged.seq, &p.logged.Environment, &p.tags)
		return p, err
	})
	if err != nil {
		return nil, s.wrap(err, "usage tags")
	}
	type dayTag struct{ day, tag string }
	counts := map[dayTag]latchkey.TagCount{}
	named := map[string]int{} // per day, the tags other than UsageTagOther
	var logged []logEntry
	for _, p := range parts {
		if p.src == 0 {
			counts[dayTag{p.counted.Day, p.counted.Tag}] = p.counted.TagCount
			if p.counted.Tag != latchkey.UsageTagOther {
				named[p.counted.Day]++
			}
			continue
		}
		e := p.logged
		e.WorkspaceID, e.KeyID = workspaceID, keyID
		if e.Day, err = time.Parse(dayFormat, p.counted.Day); err != nil {
			return nil, s.wrap(fmt.Errorf("usage log day %q: %w", p.counted.Day, err), "usage tags")
		}
		if err := json.Unmarshal([]byte(p.tags), &e.Tags); err != nil {
			return nil, s.wrap(fmt.Errorf("usage log tags: %w", err), "usage tags")
		}
		logged = append(logged, e)
	}
	for _, u := range fold(inOrder(logged)) {
		d := u.Day.UTC().Format(dayFormat)
		for _, tag := range u.tags {
			c := u.Tags[tag]
			k := dayTag{d, tag}
			if _, seen := counts[k]; tag != latchkey.UsageTagOther && !seen {
				if named[d] >= latchkey.MaxUsageTags {
					k.tag = latchkey.UsageTagOther
				} else {
					named[d]++
				}
			}
			have := counts[k]
			counts[k] = latchkey.TagCount{Verifications: have.Verifications + c.Verifications, Valid: have.Valid + c.Valid}
		}
	}
	out := make([]latchkey.UsageTag, 0, len(counts))
	for k, c := range counts {
		out = append(out, latchkey.UsageTag{Day: k.day, Tag: k.tag, TagCount: c})
	}
	slices.SortFunc(out, func(a, b latchkey.UsageTag) int { return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(a.Tag, b.Tag)) })
	return out, nil
}
