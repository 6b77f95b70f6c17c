package sqlite

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// Keys lists the keys of f.WorkspaceID matching f, newest first (ids are
// ULIDs, so id order is creation order), and the cursor of the next page
// ("" at the end). The status filter is derived from the times at f.Now
// (the current time when zero) with f.Notice, exactly as Key.Status does.
// EINVALID for an unknown status or a malformed cursor.
func (db *DB) Keys(ctx context.Context, f latchkey.KeyFilter) ([]*latchkey.Key, string, error) {
	where := []string{"k.workspace_id = ?"}
	args := []any{f.WorkspaceID}
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	if f.Status != "" {
		at := f.Now
		if at.IsZero() {
			at = time.Now()
		}
		now, soon := micros(at), micros(at.Add(f.Notice))
		switch f.Status {
		case latchkey.StatusRevoked:
			add("k.revoked_at IS NOT NULL")
		case latchkey.StatusExpired:
			add("k.revoked_at IS NULL AND k.expires_at <= ?", now)
		case latchkey.StatusExpiring:
			add("k.revoked_at IS NULL AND k.expires_at > ? AND k.expires_at <= ?", now, soon)
		case latchkey.StatusActive:
			add("k.revoked_at IS NULL AND (k.expires_at IS NULL OR k.expires_at > ?)", soon)
		default:
			return nil, "", latchkey.Errorf(latchkey.EINVALID, "unknown status %q", f.Status).WithDetail("field", "status")
		}
	}
	if f.Type != "" {
		add("k.type = ?", f.Type)
	}
	if f.Environment != "" {
		add("k.environment = ?", string(f.Environment))
	}
	if f.Owner != "" {
		add("k.owner = ?", f.Owner)
	}
	if f.Query != "" {
		add(`k.name_lower LIKE ? ESCAPE '\'`, "%"+escapeLike(strings.ToLower(f.Query))+"%")
	}
	if f.Cursor != "" {
		after, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		add("k.id < ?", after)
	}
	limit := pageSize(f.Limit)
	// One row more than the page tells whether another page follows.
	q := keySelect + "WHERE " + strings.Join(where, " AND ") + " ORDER BY k.id DESC LIMIT ?"
	rows, err := db.read.QueryContext(ctx, q, append(args, limit+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: keys: %w", err)
	}
	defer rows.Close()
	list := []*latchkey.Key{}
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: keys: %w", err)
		}
		list = append(list, k)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: keys: %w", err)
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = encodeCursor(list[limit-1].ID)
	}
	return list, next, nil
}
