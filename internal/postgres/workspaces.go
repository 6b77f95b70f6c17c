package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

// Initialized reports whether any workspace or operator exists.
func (db *DB) Initialized(ctx context.Context) (bool, error) {
	var ok bool
	err := db.pool.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM workspaces) OR EXISTS (SELECT 1 FROM users WHERE operator)`).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("postgres: initialized: %w", err)
	}
	return ok, nil
}

// CreateWorkspace inserts ws, the owner (unless a user with owner.ID
// exists, in which case that user is kept as stored), the owner's active
// membership and ev, all or nothing. ECONFLICT when the workspace id exists
// or the new owner's email belongs to another user.
func (db *DB) CreateWorkspace(ctx context.Context, ws *latchkey.Workspace, owner *latchkey.User, ev latchkey.Event) error {
	settings, err := marshal(ws.Settings, "{}")
	if err != nil {
		return err
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var exists bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = $1)`, owner.ID).Scan(&exists)
		if err != nil {
			return wrap(err, "find owner")
		}
		if !exists {
			if err := insertUser(ctx, tx, owner); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO workspaces (id, name, settings, created_at) VALUES ($1, $2, $3, $4)`,
			ws.ID, ws.Name, settings, ws.CreatedAt)
		if isUnique(err, "") {
			return latchkey.Errorf(latchkey.ECONFLICT, "workspace %s already exists", ws.ID)
		}
		if err != nil {
			return wrap(err, "insert workspace")
		}
		_, err = tx.Exec(ctx, `INSERT INTO members (workspace_id, user_id, role, active, created_at)
			VALUES ($1, $2, $3, TRUE, $4)`, ws.ID, owner.ID, string(latchkey.RoleOwner), ws.CreatedAt)
		if err != nil {
			return wrap(err, "insert owner")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = ws.ID
		}
		return insertEvent(ctx, tx, &ev)
	})
}

const workspaceSelect = `SELECT id, name, settings, created_at FROM workspaces `

func scanWorkspace(row pgx.Row) (*latchkey.Workspace, error) {
	var ws latchkey.Workspace
	var settings []byte
	var created time.Time
	if err := row.Scan(&ws.ID, &ws.Name, &settings, &created); err != nil {
		return nil, err
	}
	if err := unmarshal(settings, &ws.Settings); err != nil {
		return nil, err
	}
	ws.CreatedAt = utc(created)
	return &ws, nil
}

// Workspace returns one workspace with its settings; ENOTFOUND if none.
func (db *DB) Workspace(ctx context.Context, id string) (*latchkey.Workspace, error) {
	ws, err := scanWorkspace(db.pool.QueryRow(ctx, workspaceSelect+`WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "workspace")
	}
	return ws, nil
}

// Workspaces lists every workspace, oldest first.
func (db *DB) Workspaces(ctx context.Context) ([]*latchkey.Workspace, error) {
	rows, err := db.pool.Query(ctx, workspaceSelect+`ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("postgres: workspaces: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.Workspace, error) { return scanWorkspace(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: workspaces: %w", err)
	}
	return list, nil
}

// UpdateSettings applies fn to the workspace's settings in a transaction
// that holds the workspace's row, so concurrent updates cannot be lost.
// fn's error is returned unchanged and nothing is written; a nil event
// means no change, and the settings as stored are returned. ENOTFOUND if
// there is no such workspace (fn is not called).
func (db *DB) UpdateSettings(ctx context.Context, workspaceID string, fn func(*latchkey.Settings) (*latchkey.Event, error)) (*latchkey.Settings, error) {
	var out *latchkey.Settings
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// NO KEY UPDATE, the lock an UPDATE of non-key columns takes: it
		// does not hold up the inserts of keys and members, whose foreign
		// keys take KEY SHARE on the workspace.
		var raw []byte
		err := tx.QueryRow(ctx, `SELECT settings FROM workspaces WHERE id = $1 FOR NO KEY UPDATE`, workspaceID).Scan(&raw)
		if err != nil {
			return notFound(err, "workspace")
		}
		var s latchkey.Settings
		if err := unmarshal(raw, &s); err != nil {
			return err
		}
		ev, err := fn(&s)
		if err != nil {
			return err
		}
		if ev == nil {
			// fn may have changed s before deciding nothing changed.
			out = new(latchkey.Settings)
			return unmarshal(raw, out)
		}
		enc, err := marshal(s, "{}")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE workspaces SET settings = $1 WHERE id = $2`, enc, workspaceID); err != nil {
			return wrap(err, "update settings")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = workspaceID
		}
		out = &s
		return insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lockWorkspace takes the workspace's row for the rest of tx, serialising
// the membership changes of one workspace; ENOTFOUND if there is none.
func lockWorkspace(ctx context.Context, tx pgx.Tx, workspaceID string) error {
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM workspaces WHERE id = $1 FOR NO KEY UPDATE`, workspaceID).Scan(&id)
	if err != nil {
		return notFound(err, "member")
	}
	return nil
}
