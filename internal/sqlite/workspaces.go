package sqlite

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/latchkey/latchkey"
)

// Initialized reports whether any workspace or operator exists.
func (db *DB) Initialized(ctx context.Context) (bool, error) {
	var ok bool
	err := db.read.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM workspaces) OR EXISTS (SELECT 1 FROM users WHERE operator)`).Scan(&ok)
	if err != nil {
		return false, fmt.Errorf("sqlite: initialized: %w", err)
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
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var exists bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`, owner.ID).Scan(&exists)
		if err != nil {
			return fmt.Errorf("sqlite: find owner: %w", err)
		}
		if !exists {
			if err := insertUser(ctx, tx, owner); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO workspaces (id, name, settings, created_at) VALUES (?, ?, ?, ?)`,
			ws.ID, ws.Name, settings, micros(ws.CreatedAt))
		if isUnique(err, "") {
			return latchkey.Errorf(latchkey.ECONFLICT, "workspace %s already exists", ws.ID)
		}
		if err != nil {
			return fmt.Errorf("sqlite: insert workspace: %w", err)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO members (workspace_id, user_id, role, active, created_at)
			VALUES (?, ?, ?, TRUE, ?)`, ws.ID, owner.ID, latchkey.RoleOwner, micros(ws.CreatedAt))
		if err != nil {
			return fmt.Errorf("sqlite: insert owner: %w", err)
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = ws.ID
		}
		return insertEvent(ctx, tx, &ev)
	})
}

// Workspace returns one workspace with its settings; ENOTFOUND if none.
func (db *DB) Workspace(ctx context.Context, id string) (*latchkey.Workspace, error) {
	ws, err := scanWorkspace(db.read.QueryRowContext(ctx,
		`SELECT id, name, settings, created_at FROM workspaces WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "workspace")
	}
	return ws, nil
}

func scanWorkspace(row interface{ Scan(...any) error }) (*latchkey.Workspace, error) {
	var ws latchkey.Workspace
	var settings string
	var created int64
	if err := row.Scan(&ws.ID, &ws.Name, &settings, &created); err != nil {
		return nil, err
	}
	if err := unmarshal(settings, &ws.Settings); err != nil {
		return nil, err
	}
	ws.CreatedAt = fromMicros(created)
	return &ws, nil
}

// Workspaces lists every workspace, oldest first.
func (db *DB) Workspaces(ctx context.Context) ([]*latchkey.Workspace, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT id, name, settings, created_at FROM workspaces ORDER BY created_at, id`)
	if err != nil {
		return nil, fmt.Errorf("sqlite: workspaces: %w", err)
	}
	defer rows.Close()
	list := []*latchkey.Workspace{}
	for rows.Next() {
		ws, err := scanWorkspace(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: workspaces: %w", err)
		}
		list = append(list, ws)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: workspaces: %w", err)
	}
	return list, nil
}

// UpdateSettings applies fn to the workspace's settings inside a write
// transaction. fn's error is returned unchanged and nothing is written; a
// nil event means no change, and the settings as stored are returned.
// fn must not call the store's write methods: the write connection is held.
func (db *DB) UpdateSettings(ctx context.Context, workspaceID string, fn func(*latchkey.Settings) (*latchkey.Event, error)) (*latchkey.Settings, error) {
	var out *latchkey.Settings
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var raw string
		err := tx.QueryRowContext(ctx, `SELECT settings FROM workspaces WHERE id = ?`, workspaceID).Scan(&raw)
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
			// fn may have changed s before deciding nothing changed:
			// answer with a fresh copy of what is stored, and commit a
			// transaction that wrote nothing.
			out = new(latchkey.Settings)
			return unmarshal(raw, out)
		}
		enc, err := marshal(s, "{}")
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE workspaces SET settings = ? WHERE id = ?`, enc, workspaceID); err != nil {
			return fmt.Errorf("sqlite: update settings: %w", err)
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
