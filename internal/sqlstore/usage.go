package sqlstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

const dayFormat = "2006-01-02"

// day scans a date column, which PostgreSQL reads as a time and SQLite
// keeps as "2006-01-02" text.
type day string

func (d *day) Scan(v any) error {
	switch v := v.(type) {
	case time.Time:
		*d = day(v.Format(dayFormat))
	case string:
		*d = day(v)
	case []byte:
		*d = day(v)
	default:
		return fmt.Errorf("cannot scan %T as a day", v)
	}
	return nil
}

// AddUsage appends a batch to the usage log (migration 00020), in one
// transaction: a flush is either in the log whole or not at all. The log
// grows at its end, so a flush costs the same whatever the number of keys
// in the store; FoldUsage moves it into the daily counters and last_used_at.
func (s *Store) AddUsage(ctx context.Context, batch []latchkey.Usage) error {
	rows := make([][]any, 0, len(batch))
	for _, u := range batch {
		if unmatchable(u.WorkspaceID, u.KeyID, string(u.Environment)) {
			continue // no such key
		}
		outcomes, tags, err := encodeBreakdown(u)
		if err != nil {
			return err
		}
		var last *time.Time
		if !u.LastUsedAt.IsZero() {
			last = &u.LastUsedAt
		}
		rows = append(rows, []any{u.WorkspaceID, u.KeyID, u.Day.UTC().Format(dayFormat), string(u.Environment),
			u.Valid, u.Denied, outcomes, tags, last})
	}
	if len(rows) == 0 {
		return nil
	}
	row := "(?, ?, " + s.db.DateParam() + ", ?, ?, ?, ?, ?, ?)"
	var stmts []Stmt
	for part := range slices.Chunk(rows, maxInList) {
		args := make([]any, 0, len(part)*len(part[0]))
		for _, r := range part {
			args = append(args, r...)
		}
		stmts = append(stmts, Stmt{`INSERT INTO key_usage_log
			(workspace_id, key_id, day, environment, valid, denied, outcomes, tags, last_used_at)
			VALUES ` + strings.TrimSuffix(strings.Repeat(row+", ", len(part)), ", "), args})
	}
	return s.inTx(ctx, func(tx Conn) error {
		return s.wrap(execAll(ctx, tx, stmts), "add usage")
	})
}

// encodeBreakdown spells an entry's outcomes and tags as the log keeps
// them, leaving out names no table could hold (they were never counted).
func encodeBreakdown(u latchkey.Usage) (outcomes, tags string, err error) {
	o := make(map[string]int64, len(u.Outcomes))
	for name, n := range u.Outcomes {
		if n != 0 && !unmatchable(name) {
			o[name] = n
		}
	}
	t := make(map[string]latchkey.TagCount, len(u.Tags))
	for name, c := range u.Tags {
		if c.Verifications != 0 && !unmatchable(name) {
			t[name] = c
		}
	}
	if outcomes, err = marshal(o, "{}"); err != nil {
		return "", "", err
	}
	tags, err = marshal(t, "{}")
	return outcomes, tags, err
}

// logEntry is one row of the usage log, decoded.
type logEntry struct {
	seq int64
	latchkey.Usage
}

// scanLogEntry reads the columns logColumns names.
func scanLogEntry(row Row) (logEntry, error) {
	var e logEntry
	var d day
	var outcomes, tags string
	var last *time.Time
	err := row.Scan(&e.seq, &e.WorkspaceID, &e.KeyID, &d, &e.Environment, &e.Valid, &e.Denied, &outcomes, &tags, &last)
	if err != nil {
		return e, err
	}
	if e.Day, err = time.Parse(dayFormat, string(d)); err != nil {
		return e, fmt.Errorf("usage log day %q: %w", d, err)
	}
	if err := json.Unmarshal([]byte(outcomes), &e.Outcomes); err != nil {
		return e, fmt.Errorf("usage log outcomes: %w", err)
	}
	if err := json.Unmarshal([]byte(tags), &e.Tags); err != nil {
		return e, fmt.Errorf("usage log tags: %w", err)
	}
	if last != nil {
		e.LastUsedAt = *last
	}
	return e, nil
}

// inOrder returns the entries' usage in the order they were appended.
func inOrder(entries []logEntry) []latchkey.Usage {
	slices.SortFunc(entries, func(a, b logEntry) int { return cmp.Compare(a.seq, b.seq) })
	usage := make([]latchkey.Usage, len(entries))
	for i, e := range entries {
		usage[i] = e.Usage
	}
	return usage
}

const logColumns = `seq, workspace_id, key_id, day, environment, valid, denied, outcomes, tags, last_used_at`

// Usage returns a key's daily counts for the UTC days from from to to,
// both included, oldest first (production before demo within a day), each
// with its outcomes, counting the log's entries not folded yet. It never
// answers ENOTFOUND: counts outlive a deleted key for billing, and a key
// of another workspace simply has no counts here.
//
// One statement reads the counters and the log, so that a fold between
// two reads can neither count an entry twice nor miss it.
func (s *Store) Usage(ctx context.Context, workspaceID, keyID string, from, to time.Time) ([]latchkey.UsageDay, error) {
	if unmatchable(workspaceID, keyID) {
		return []latchkey.UsageDay{}, nil
	}
	f, t := from.UTC().Format(dayFormat), to.UTC().Format(dayFormat)
	dp := s.db.DateParam()
	inRange := `workspace_id = ? AND key_id = ? AND day >= ` + dp + ` AND day <= ` + dp
	rows, err := s.read.Query(ctx, `SELECT 0, day, environment, '', valid, denied, '' FROM key_usage WHERE `+inRange+`
		UNION ALL SELECT 1, day, environment, outcome, n, 0, '' FROM key_usage_outcomes WHERE `+inRange+`
		UNION ALL SELECT 2, day, environment, '', valid, denied, outcomes FROM key_usage_log WHERE `+inRange+`
			AND EXISTS (SELECT 1 FROM keys WHERE id = ? AND workspace_id = ?)`,
		workspaceID, keyID, f, t, workspaceID, keyID, f, t, workspaceID, keyID, f, t, keyID, workspaceID)
	type part struct {
		src       int
		at        latchkey.UsageDay
		outcome   string
		n, denied int64
		outcomes  string
	}
	parts, err := collect(rows, err, func(row Row) (part, error) {
		var p part
		err := row.Scan(&p.src, (*day)(&p.at.Day), &p.at.Environment, &p.outcome, &p.n, &p.denied, &p.outcomes)
		return p, err
	})
	if err != nil {
		return nil, s.wrap(err, "usage")
	}
	type dayEnv struct {
		day string
		env latchkey.Environment
	}
	days := map[dayEnv]*latchkey.UsageDay{}
	at := func(p part) *latchkey.UsageDay {
		k := dayEnv{p.at.Day, p.at.Environment}
		d := days[k]
		if d == nil {
			d = &latchkey.UsageDay{Day: k.day, Environment: k.env, Outcomes: map[string]int64{}}
			days[k] = d
		}
		return d
	}
	for _, p := range parts {
		d := at(p)
		switch p.src {
		case 0:
			d.Valid += p.n
			d.Denied += p.denied
		case 1:
			d.Outcomes[p.outcome] += p.n
		case 2:
			d.Valid += p.n
			d.Denied += p.denied
			var o map[string]int64
			if err := json.Unmarshal([]byte(p.outcomes), &o); err != nil {
				return nil, s.wrap(fmt.Errorf("usage log outcomes: %w", err), "usage")
			}
			for name, n := range o {
				d.Outcomes[name] += n
			}
		}
	}
	out := make([]latchkey.UsageDay, 0, len(days))
	for _, d := range days {
		out = append(out, *d)
	}
	slices.SortFunc(out, func(a, b latchkey.UsageDay) int {
		return cmp.Or(cmp.Compare(a.Day, b.Day), cmp.Compare(b.Environment, a.Environment))
	})
	return out, nil
}
