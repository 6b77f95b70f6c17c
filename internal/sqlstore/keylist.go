package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// cond is a piece of a WHERE clause and its arguments.
type cond struct {
	sql  string
	args []any
}

// expiringCond holds for a key inside one of the notice windows that it
// was not created inside: expiring within w, having lived longer than w.
// A key created inside every window (a 30-day key under a 30-day window)
// is no news to anyone, so it is not expiring (Key.Status).
func (s *Store) expiringCond(now time.Time, windows []latchkey.Duration) cond {
	var parts []string
	var args []any
	for _, w := range windows {
		if w <= 0 {
			continue
		}
		parts = append(parts, "(k.expires_at <= ? AND "+s.db.Micros("k.expires_at", "k.created_at")+" > ?)")
		args = append(args, now.Add(time.Duration(w)), time.Duration(w).Microseconds())
	}
	if len(parts) == 0 {
		return cond{sql: "FALSE"}
	}
	return cond{sql: "(" + strings.Join(parts, " OR ") + ")", args: args}
}

// Keys lists the keys of f.WorkspaceID matching f, newest first (ids are
// ULIDs, so id order is creation order), and the cursor of the next page
// ("" at the end). The status filter is derived from the times at f.Now
// (the current time when zero) with f.Windows, exactly as Key.Status with
// Key.NoticeWindow does.
// EINVALID for an unknown status or a malformed cursor.
func (s *Store) Keys(ctx context.Context, f latchkey.KeyFilter) ([]*latchkey.Key, string, error) {
	if unmatchable(f.WorkspaceID, f.Type, string(f.Environment), f.Owner, f.Query, f.ExternalID) {
		return []*latchkey.Key{}, "", nil
	}
	var c conds
	c.add("k.workspace_id = ?", f.WorkspaceID)
	if f.Status != "" {
		now := f.Now
		if now.IsZero() {
			now = time.Now()
		}
		// Truncated as stored times are, so that the boundaries fall where
		// Key.Status puts them for a key read back from the store.
		now = now.Truncate(time.Microsecond)
		expiring := s.expiringCond(now, f.Windows)
		switch f.Status {
		case latchkey.StatusRevoked:
			c.add("k.revoked_at IS NOT NULL")
		case latchkey.StatusExpired:
			c.add("k.revoked_at IS NULL AND k.expires_at <= ?", now)
		case latchkey.StatusDisabled:
			c.add("k.revoked_at IS NULL AND k.disabled_at IS NOT NULL AND (k.expires_at IS NULL OR k.expires_at > ?)", now)
		case latchkey.StatusExpiring:
			c.add("k.revoked_at IS NULL AND k.disabled_at IS NULL AND k.expires_at > ? AND "+expiring.sql, append([]any{now}, expiring.args...)...)
		case latchkey.StatusActive:
			c.add("k.revoked_at IS NULL AND k.disabled_at IS NULL AND (k.expires_at IS NULL OR (k.expires_at > ? AND NOT "+expiring.sql+"))",
				append([]any{now}, expiring.args...)...)
		default:
			return nil, "", latchkey.Errorf(latchkey.EINVALID, "unknown status %q", f.Status).WithDetail("field", "status")
		}
	}
	if f.Type != "" {
		c.add("k.type = ?", f.Type)
	}
	if f.Environment != "" {
		c.add("k.environment = ?", string(f.Environment))
	}
	if f.Owner != "" {
		c.add("k.owner = ?", f.Owner)
	}
	if f.ExternalID != "" {
		c.add("k.external_id = ?", f.ExternalID)
	}
	if f.Query != "" {
		// name_lower was folded by strings.ToLower, as the query is here:
		// the same folding on every database, whatever its locale.
		c.add(`k.name_lower LIKE ? ESCAPE '\'`, "%"+escapeLike(strings.ToLower(f.Query))+"%")
	}
	if f.Cursor != "" {
		after, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		c.add("k.id < ?", after)
	}
	limit := pageSize(f.Limit)
	// One row more than the page tells whether another page follows.
	rows, err := s.read.Query(ctx, keySelect+"WHERE "+c.String()+" ORDER BY k.id DESC LIMIT ?", append(c.args, limit+1)...)
	list, err := collect(rows, err, scanKey)
	if err != nil {
		return nil, "", s.wrap(err, "keys")
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = encodeCursor(list[limit-1].ID)
	}
	return list, next, nil
}
