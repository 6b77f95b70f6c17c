package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

// AppendEvent records an event that goes with no other change, such as a
// login or a secret reveal. ECONFLICT if its id exists.
func (db *DB) AppendEvent(ctx context.Context, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx pgx.Tx) error { return insertEvent(ctx, tx, &ev) })
}

// conds builds a WHERE clause with numbered placeholders.
type conds struct {
	where []string
	args  []any
}

// add appends a condition in which "?" stands for the next argument.
func (c *conds) add(cond string, args ...any) {
	for _, a := range args {
		c.args = append(c.args, a)
		cond = strings.Replace(cond, "?", "$"+strconv.Itoa(len(c.args)), 1)
	}
	c.where = append(c.where, cond)
}

// next returns the placeholder of one more argument.
func (c *conds) next(arg any) string {
	c.args = append(c.args, arg)
	return "$" + strconv.Itoa(len(c.args))
}

func (c *conds) String() string { return strings.Join(c.where, " AND ") }

// Events lists the events of f.WorkspaceID matching f, newest first, and
// the cursor of the next page ("" at the end). The workspace always
// filters: "" selects the platform events that belong to no workspace, so
// a caller that forgot the workspace never sees every tenant's log.
// EINVALID for a malformed cursor.
func (db *DB) Events(ctx context.Context, f latchkey.EventFilter) ([]*latchkey.Event, string, error) {
	if unmatchable(f.WorkspaceID, f.Action, f.Target, f.Actor) {
		return []*latchkey.Event{}, "", nil
	}
	var c conds
	c.add("workspace_id = ?", f.WorkspaceID)
	switch {
	case strings.HasSuffix(f.Action, "."):
		c.add("starts_with(action, ?)", f.Action)
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
	q := `SELECT id, workspace_id, at, actor_type, actor_id, actor_label, action, target, ip, data
		FROM events WHERE ` + c.String() + ` ORDER BY id DESC LIMIT ` + c.next(limit+1)
	rows, err := db.pool.Query(ctx, q, c.args...)
	if err != nil {
		return nil, "", wrap(err, "events")
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.Event, error) {
		var ev latchkey.Event
		var at time.Time
		var data []byte
		err := row.Scan(&ev.ID, &ev.WorkspaceID, &at, &ev.Actor.Type, &ev.Actor.ID, &ev.Actor.Label,
			&ev.Action, &ev.Target, &ev.IP, &data)
		if err != nil {
			return nil, err
		}
		ev.At = utc(at)
		if data != nil {
			if err := unmarshal(data, &ev.Data); err != nil {
				return nil, err
			}
		}
		return &ev, nil
	})
	if err != nil {
		return nil, "", wrap(err, "events")
	}
	next := ""
	if len(list) > limit {
		list = list[:limit]
		next = encodeCursor(list[limit-1].ID)
	}
	return list, next, nil
}
