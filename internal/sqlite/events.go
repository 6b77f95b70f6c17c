package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// AppendEvent records an event that goes with no other change, such as a
// login or a secret reveal. ECONFLICT if its id exists.
func (db *DB) AppendEvent(ctx context.Context, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return insertEvent(ctx, tx, &ev) })
}

// Events lists the events of f.WorkspaceID matching f, newest first, and
// the cursor of the next page ("" at the end). The workspace always
// filters: "" selects the platform events that belong to no workspace, so
// a caller that forgot the workspace never sees every tenant's log.
// EINVALID for a malformed cursor.
func (db *DB) Events(ctx context.Context, f latchkey.EventFilter) ([]*latchkey.Event, string, error) {
	where := []string{"workspace_id = ?"}
	args := []any{f.WorkspaceID}
	add := func(cond string, a ...any) {
		where = append(where, cond)
		args = append(args, a...)
	}
	switch {
	case strings.HasSuffix(f.Action, "."):
		// substr, not LIKE: LIKE folds case in SQLite and not in
		// PostgreSQL. substr counts characters, not bytes.
		add("substr(action, 1, ?) = ?", utf8.RuneCountInString(f.Action), f.Action)
	case f.Action != "":
		add("action = ?", f.Action)
	}
	if f.Target != "" {
		add("target = ?", f.Target)
	}
	if f.Actor != "" {
		add("actor_id = ?", f.Actor)
	}
	if f.From != nil {
		add("at >= ?", micros(*f.From))
	}
	if f.To != nil {
		add("at <= ?", micros(*f.To))
	}
	if f.Cursor != "" {
		after, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		add("id < ?", after)
	}
	limit := pageSize(f.Limit)
	q := `SELECT id, workspace_id, at, actor_type, actor_id, actor_label, action, target, ip, data
		FROM events WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id DESC LIMIT ?`
	rows, err := db.read.QueryContext(ctx, q, append(args, limit+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: events: %w", err)
	}
	defer rows.Close()
	list := []*latchkey.Event{}
	for rows.Next() {
		var ev latchkey.Event
		var at int64
		var data sql.NullString
		err := rows.Scan(&ev.ID, &ev.WorkspaceID, &at, &ev.Actor.Type, &ev.Actor.ID, &ev.Actor.Label,
			&ev.Action, &ev.Target, &ev.IP, &data)
		if err != nil {
			return nil, "", fmt.Errorf("sqlite: events: %w", err)
		}
		ev.At = fromMicros(at)
		if data.Valid {
			if err := unmarshal(data.String, &ev.Data); err != nil {
				return nil, "", err
			}
		}
		list = append(list, &ev)
	}
	if err := rows.Err(); err != nil {
		return nil, "", fmt.Errorf("sqlite: events: %w", err)
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = encodeCursor(list[limit-1].ID)
	}
	return list, next, nil
}
