package sqlstore

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
)

// FoldUsage folds the log's entries of the first limit keys after the
// key id after (all keys for ""), in key order, into the daily counters
// and last_used_at, and removes them from the log, in one transaction: an
// entry is counted once, by whichever fold took it. Entries whose key is
// gone from its workspace are dropped. It returns the last key id it
// folded, to pass as after to fold the next keys; "" when no key after
// after has entries.
//
// All of a key's entries are folded together, so a key in steady use has
// its counters written once per fold whatever the number of flushes
// since. Instances may fold at the same time on PostgreSQL: the second to
// reach an entry waits for the first and finds it gone, and counters are
// written in one global order, so two folds never deadlock.
func (s *Store) FoldUsage(ctx context.Context, after string, limit int) (string, error) {
	if limit <= 0 || unmatchable(after) {
		return "", nil
	}
	var last string
	err := s.inTx(ctx, func(tx Conn) error {
		rows, err := tx.Query(ctx, `SELECT DISTINCT key_id FROM key_usage_log WHERE key_id > ? ORDER BY key_id LIMIT ?`, after, limit)
		keys, err := collect(rows, err, scanString)
		if err != nil || len(keys) == 0 {
			return s.wrap(err, "fold usage")
		}
		last = keys[len(keys)-1]
		rows, err = tx.Query(ctx, `DELETE FROM key_usage_log WHERE key_id > ? AND key_id <= ? RETURNING `+logColumns, after, last)
		return s.foldTaken(ctx, tx, rows, err)
	})
	if err != nil {
		return "", err
	}
	return last, nil
}

// folded is the sum of log entries for one workspace, key, day and
// environment.
type folded struct {
	latchkey.Usage
	// tags names Usage.Tags in the order they first came (by name within
	// an entry): the cap on tags per day keeps the first to come.
	tags []string
}

// foldTaken folds the log entries a DELETE ... RETURNING took.
func (s *Store) foldTaken(ctx context.Context, tx Conn, rows Rows, err error) error {
	entries, err := collect(rows, err, scanLogEntry)
	if err != nil {
		return s.wrap(err, "fold usage")
	}
	if stmts := s.foldStmts(fold(inOrder(entries))); len(stmts) > 0 {
		return s.wrap(execAll(ctx, tx, stmts), "fold usage")
	}
	return nil
}

// foldKeys folds the log entries of the keys ids of a workspace, in a
// transaction about to delete them: their last uses are counted rather
// than dropped with them. It is the transaction's first write, so that it
// takes its locks in a fold's order (log, counters, keys) and cannot
// deadlock with one.
func (s *Store) foldKeys(ctx context.Context, tx Conn, workspaceID string, ids []string) error {
	for part := range slices.Chunk(ids, maxInList) {
		rows, err := tx.Query(ctx, `DELETE FROM key_usage_log WHERE workspace_id = ? AND key_id IN (`+params(len(part))+`)
			RETURNING `+logColumns, append([]any{workspaceID}, anys(part)...)...)
		if err := s.foldTaken(ctx, tx, rows, err); err != nil {
			return err
		}
	}
	return nil
}

// fold sums entries, given in the order they were appended, per
// workspace, key, day and environment, sorted as foldStmts writes them:
// by key, day and environment.
func fold(entries []latchkey.Usage) []folded {
	type at struct {
		ws, key, day string
		env          latchkey.Environment
	}
	byAt := map[at]int{}
	var out []folded
	for _, e := range entries {
		k := at{e.WorkspaceID, e.KeyID, e.Day.UTC().Format(dayFormat), e.Environment}
		i, ok := byAt[k]
		if !ok {
			i = len(out)
			byAt[k] = i
			out = append(out, folded{Usage: latchkey.Usage{WorkspaceID: e.WorkspaceID, KeyID: e.KeyID, Day: e.Day, Environment: e.Environment,
				Outcomes: map[string]int64{}, Tags: map[string]latchkey.TagCount{}}})
		}
		f := &out[i]
		f.Valid += e.Valid
		f.Denied += e.Denied
		for name, n := range e.Outcomes {
			f.Outcomes[name] += n
		}
		for _, name := range slices.Sorted(maps.Keys(e.Tags)) {
			c := e.Tags[name]
			t, had := f.Tags[name]
			if !had {
				f.tags = append(f.tags, name)
			}
			f.Tags[name] = latchkey.TagCount{Verifications: t.Verifications + c.Verifications, Valid: t.Valid + c.Valid}
		}
		if e.LastUsedAt.After(f.LastUsedAt) {
			f.LastUsedAt = e.LastUsedAt
		}
	}
	slices.SortFunc(out, func(a, b folded) int {
		return cmp.Or(cmp.Compare(a.KeyID, b.KeyID), cmp.Compare(a.Day.UTC().Format(dayFormat), b.Day.UTC().Format(dayFormat)),
			cmp.Compare(a.Environment, b.Environment), cmp.Compare(a.WorkspaceID, b.WorkspaceID))
	})
	return out
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

// foldStmts are the statements that add folded entries (sorted as fold
// sorts them) to the daily counters and advance each key's last_used_at.
// Rows are locked in one global order (every counter by key, day and
// environment, then every key by id), so two folds wait for each other
// but never deadlock.
func (s *Store) foldStmts(entries []folded) []Stmt {
	type use struct {
		workspaceID, keyID string
		at                 time.Time
	}
	var used []use // the latest use per key, in key order
	var stmts []Stmt
	for _, u := range entries {
		d := u.Day.UTC().Format(dayFormat)
		// The key_usage row comes first: its lock serializes the
		// folds of one key and day, so the tag cap below counts what
		// every earlier fold wrote.
		stmts = append(stmts, Stmt{s.addUsageSQL(), []any{u.WorkspaceID, u.KeyID, d,
			string(u.Environment), u.Valid, u.Denied, u.KeyID, u.WorkspaceID}})
		stmts = s.appendOutcomes(stmts, u.Usage, d)
		stmts = s.appendTags(stmts, u.Usage, u.tags, d)
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
		// Entries of several instances arrive in any order: last_used_at
		// only moves forward, and by at least LastUsedStep.
		stmts = append(stmts, Stmt{`UPDATE keys SET last_used_at = ?
			WHERE id = ? AND workspace_id = ? AND (last_used_at IS NULL OR last_used_at <= ?)`,
			[]any{u.at, u.keyID, u.workspaceID, u.at.Add(-latchkey.LastUsedStep)}})
	}
	return stmts
}
