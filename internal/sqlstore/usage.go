package sqlstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"
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

// addUsageSQL adds one entry's counts, unless its key is gone from its
// workspace: the WHERE EXISTS both skips deleted keys and keeps an entry
// from counting against a key of another workspace.
func (s *Store) addUsageSQL() string {
	return `INSERT INTO key_usage (workspace_id, key_id, day, environment, valid, denied)
		SELECT ?, ?, ` + s.db.DateParam() + `, ?, ?, ? WHERE EXISTS (SELECT 1 FROM keys WHERE id = ? AND workspace_id = ?)
		ON CONFLICT (key_id, day, environment)
		DO UPDATE SET valid = key_usage.valid + excluded.valid, denied = key_usage.denied + excluded.denied`
}

// AddUsage adds the counts of a batch to the daily counters and advances
// each key's last_used_at, in one transaction and one round trip, so a
// flush is never half applied. Entries whose key no longer exists in their
// workspace (deleted since the verification) are skipped, not an error.
func (s *Store) AddUsage(ctx context.Context, batch []latchkey.Usage) error {
	if len(batch) == 0 {
		return nil
	}
	// Instances flush concurrently. Rows are locked in one global order
	// (every counter by key, day and environment, then every key by id),
	// so two flushes wait for each other but never deadlock.
	entries := slices.Clone(batch)
	slices.SortFunc(entries, func(a, b latchkey.Usage) int {
		return cmp.Or(cmp.Compare(a.KeyID, b.KeyID), cmp.Compare(a.Day.UTC().Format(dayFormat), b.Day.UTC().Format(dayFormat)),
			cmp.Compare(a.Environment, b.Environment))
	})
	type use struct {
		workspaceID, keyID string
		at                 time.Time
	}
	var used []use // the latest use per key, in key order
	var stmts []Stmt
	for _, u := range entries {
		if unmatchable(u.WorkspaceID, u.KeyID, string(u.Environment)) {
			continue // no such key
		}
		d := u.Day.UTC().Format(dayFormat)
		// The key_usage row comes first: its lock serializes the
		// flushes of one key and day, so the tag cap below counts what
		// every earlier flush wrote.
		stmts = append(stmts, Stmt{s.addUsageSQL(), []any{u.WorkspaceID, u.KeyID, d,
			string(u.Environment), u.Valid, u.Denied, u.KeyID, u.WorkspaceID}})
		stmts = s.appendOutcomes(stmts, u, d)
		stmts = s.appendTags(stmts, u, d)
		if u.LastUsedAt.IsZero() {
			continue
		}
		if n := len(used); n > 0 && used[n-1].keyID == u.KeyID && used[n-1].workspaceID == u.WorkspaceID {
			if u.LastUsedAt.After(used[n-1].at) {
				used[n-1].at = u.LastUsedAt
			}
			continue
		}
		used = append(used, use{u.WorkspaceID, u.KeyID, u.LastUsedAt})
	}
	for _, u := range used {
		// Batches from several instances arrive in any order: last_used_at
		// only moves forward, and by at least LastUsedStep.
		stmts = append(stmts, Stmt{`UPDATE keys SET last_used_at = ?
			WHERE id = ? AND workspace_id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
			[]any{u.at, u.keyID, u.workspaceID, u.at.Add(-latchkey.LastUsedStep)}})
	}
	if len(stmts) == 0 {
		return nil
	}
	return s.inTx(ctx, func(tx Conn) error {
		return s.wrap(execAll(ctx, tx, stmts), "add usage")
	})
}

// Usage returns a key's daily counts for the UTC days from from to to,
// both included, oldest first (production before demo within a day), each
// with its outcomes. It never answers ENOTFOUND: counts outlive a deleted
// key for billing, and a key of another workspace simply has no counts here.
func (s *Store) Usage(ctx context.Context, workspaceID, keyID string, from, to time.Time) ([]latchkey.UsageDay, error) {
	if unmatchable(workspaceID, keyID) {
		return []latchkey.UsageDay{}, nil
	}
	f, t := from.UTC().Format(dayFormat), to.UTC().Format(dayFormat)
	rows, err := s.read.Query(ctx, `SELECT day, environment, valid, denied FROM key_usage
		WHERE workspace_id = ? AND key_id = ? AND day >= `+s.db.DateParam()+` AND day <= `+s.db.DateParam()+`
		ORDER BY day, environment DESC`,
		workspaceID, keyID, f, t)
	days, err := collect(rows, err, func(row Row) (latchkey.UsageDay, error) {
		d := latchkey.UsageDay{Outcomes: map[string]int64{}}
		err := row.Scan((*day)(&d.Day), &d.Environment, &d.Valid, &d.Denied)
		return d, err
	})
	if err != nil {
		return nil, s.wrap(err, "usage")
	}
	if len(days) == 0 {
		return days, nil
	}
	type dayEnv struct {
		day string
		env latchkey.Environment
	}
	at := make(map[dayEnv]int, len(days))
	for i, d := range days {
		at[dayEnv{d.Day, d.Environment}] = i
	}
	rows, err = s.read.Query(ctx, `SELECT day, environment, outcome, n FROM key_usage_outcomes
		WHERE workspace_id = ? AND key_id = ? AND day >= `+s.db.DateParam()+` AND day <= `+s.db.DateParam(),
		workspaceID, keyID, f, t)
	type outcome struct {
		at      dayEnv
		outcome string
		n       int64
	}
	outs, err := collect(rows, err, func(row Row) (outcome, error) {
		var o outcome
		err := row.Scan((*day)(&o.at.day), &o.at.env, &o.outcome, &o.n)
		return o, err
	})
	if err != nil {
		return nil, s.wrap(err, "usage")
	}
	for _, o := range outs {
		if i, ok := at[o.at]; ok {
			days[i].Outcomes[o.outcome] = o.n
		}
	}
	return days, nil
}
