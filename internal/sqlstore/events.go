package sqlstore

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// AppendEvent records an event that goes with no other change, such as a
// login or a secret reveal. ECONFLICT if its id exists.
func (s *Store) AppendEvent(ctx context.Context, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error { return s.insertEvent(ctx, tx, &ev) })
}

// Events lists the events of f.WorkspaceID matching f, newest first, and
// the cursor of the next page ("" at the end). The workspace always
// filters: "" selects the platform events that belong to no workspace, so
// a caller that forgot the workspace never sees every tenant's log.
// EINVALID for a malformed cursor.
func (s *Store) Events(ctx context.Context, f latchkey.EventFilter) ([]*latchkey.Event, string, error) {
	if unmatchable(f.WorkspaceID, f.Action, f.Target, f.Actor) {
		return []*latchkey.Event{}, "", nil
	}
	var c conds
	c.add("workspace_id = ?", f.WorkspaceID)
	switch {
	case strings.HasSuffix(f.Action, "."):
		// substr, not LIKE: LIKE folds case in SQLite and not in
		// PostgreSQL. substr counts characters, not bytes.
		c.add("substr(action, 1, ?) = ?", utf8.RuneCountInString(f.Action), f.Action)
	case f.Action != "":
		c.add("action = ?", f.Action)
	}
	if f.Target != "" {
		c.add("target = ?", f.Target)
	}
	if f.Actor != "" {
		c.add("actor_id = ?", f.Actor)
	}
	if f.From != nil {
		c.add("at >= ?", *f.From)
	}
	if f.To != nil {
		c.add("at <= ?", *f.To)
	}
	if f.Cursor != "" {
		after, err := decodeCursor(f.Cursor)
		if err != nil {
			return nil, "", err
		}
		c.add("id < ?", after)
	}
	limit := pageSize(f.Limit)
	// One row more than the page tells whether another page follows.
	rows, err := s.read.Query(ctx, `SELECT id, workspace_id, at, actor_type, actor_id, actor_label, action, target, ip, data
		FROM events WHERE `+c.String()+` ORDER BY id DESC LIMIT ?`, append(c.args, limit+1)...)
	list, err := collect(rows, err, func(row Row) (*latchkey.Event, error) {
		var ev latchkey.Event
		var data []byte
		err := row.Scan(&ev.ID, &ev.WorkspaceID, &ev.At, &ev.Actor.Type, &ev.Actor.ID, &ev.Actor.Label,
			&ev.Action, &ev.Target, &ev.IP, &data)
		if err != nil {
			return nil, err
		}
		if data != nil {
			if err := unmarshal(data, &ev.Data); err != nil {
				return nil, err
			}
		}
		return &ev, nil
	})
	if err != nil {
		return nil, "", s.wrap(err, "events")
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = encodeCursor(list[limit-1].ID)
	}
	return list, next, nil
}
