package sqlstore

import (
	"context"

	"github.com/latchkey/latchkey"
)

// Initialized reports whether any workspace or operator exists.
func (s *Store) Initialized(ctx context.Context) (bool, error) {
	var ok bool
	err := s.read.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM workspaces) OR EXISTS (SELECT 1 FROM users WHERE operator)`).Scan(&ok)
	if err != nil {
		return false, s.wrap(err, "initialized")
	}
	return ok, nil
}

// CreateWorkspace inserts ws, the owner (unless a user with owner.ID
// exists, in which case that user is kept as stored), the owner's active
// membership and ev, all or nothing. ECONFLICT when the workspace id exists
// or the new owner's email belongs to another user.
func (s *Store) CreateWorkspace(ctx context.Context, ws *latchkey.Workspace, owner *latchkey.User, ev latchkey.Event) error {
	settings, err := marshal(ws.Settings, "{}")
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Conn) error {
		var exists bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE id = ?)`, owner.ID).Scan(&exists)
		if err != nil {
			return s.wrap(err, "find owner")
		}
		if !exists {
			if err := s.insertUser(ctx, tx, owner); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `INSERT INTO workspaces (id, name, settings, created_at) VALUES (?, ?, ?, ?)`,
			ws.ID, ws.Name, settings, ws.CreatedAt)
		if s.isUnique(err, AnyConstraint) {
			return latchkey.Errorf(latchkey.ECONFLICT, "workspace %s already exists", ws.ID)
		}
		if err != nil {
			return s.wrap(err, "insert workspace")
		}
		_, err = tx.Exec(ctx, `INSERT INTO members (workspace_id, user_id, role, active, created_at)
			VALUES (?, ?, ?, TRUE, ?)`, ws.ID, owner.ID, string(latchkey.RoleOwner), ws.CreatedAt)
		if err != nil {
			return s.wrap(err, "insert owner")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = ws.ID
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

const workspaceSelect = `SELECT id, name, settings, created_at FROM workspaces `

func scanWorkspace(row Row) (*latchkey.Workspace, error) {
	var ws latchkey.Workspace
	var settings []byte
	if err := row.Scan(&ws.ID, &ws.Name, &settings, &ws.CreatedAt); err != nil {
		return nil, err
	}
	if err := unmarshal(settings, &ws.Settings); err != nil {
		return nil, err
	}
	return &ws, nil
}

// Workspace returns one workspace with its settings; ENOTFOUND if none.
func (s *Store) Workspace(ctx context.Context, id string) (*latchkey.Workspace, error) {
	ws, err := scanWorkspace(s.read.QueryRow(ctx, workspaceSelect+`WHERE id = ?`, id))
	if err != nil {
		return nil, s.notFound(err, "workspace")
	}
	return ws, nil
}

// Workspaces lists every workspace, oldest first.
func (s *Store) Workspaces(ctx context.Context) ([]*latchkey.Workspace, error) {
	rows, err := s.read.Query(ctx, workspaceSelect+`ORDER BY created_at, id`)
	list, err := collect(rows, err, scanWorkspace)
	if err != nil {
		return nil, s.wrap(err, "workspaces")
	}
	return list, nil
}

// UpdateSettings applies fn to the workspace's settings in a transaction
// that holds the workspace's row, so concurrent updates cannot be lost.
// fn's error is returned unchanged and nothing is written; a nil event
// means no change, and the settings as stored are returned. ENOTFOUND if
// there is no such workspace (fn is not called). fn must not call the
// store's write methods.
func (s *Store) UpdateSettings(ctx context.Context, workspaceID string, fn func(*latchkey.Settings) (*latchkey.Event, error)) (*latchkey.Settings, error) {
	var out *latchkey.Settings
	err := s.inTx(ctx, func(tx Conn) error {
		// NO KEY UPDATE, the lock an UPDATE of non-key columns takes: it
		// does not hold up the inserts of keys and members, whose foreign
		// keys take KEY SHARE on the workspace.
		var raw []byte
		err := tx.QueryRow(ctx, `SELECT settings FROM workspaces WHERE id = ?`+s.lock("FOR NO KEY UPDATE"), workspaceID).Scan(&raw)
		if err != nil {
			return s.notFound(err, "workspace")
		}
		var set latchkey.Settings
		if err := unmarshal(raw, &set); err != nil {
			return err
		}
		ev, err := fn(&set)
		if err != nil {
			return err
		}
		if ev == nil {
			// fn may have changed set before deciding nothing changed.
			out = new(latchkey.Settings)
			return unmarshal(raw, out)
		}
		enc, err := marshal(set, "{}")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE workspaces SET settings = ? WHERE id = ?`, enc, workspaceID); err != nil {
			return s.wrap(err, "update settings")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = workspaceID
		}
		out = &set
		return s.insertEvent(ctx, tx, ev)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// lockWorkspace takes the workspace's row for the rest of tx, serialising
// the membership changes of one workspace; ENOTFOUND if there is none.
func (s *Store) lockWorkspace(ctx context.Context, tx Conn, workspaceID string) error {
	var id string
	err := tx.QueryRow(ctx, `SELECT id FROM workspaces WHERE id = ?`+s.lock("FOR NO KEY UPDATE"), workspaceID).Scan(&id)
	if err != nil {
		return s.notFound(err, "member")
	}
	return nil
}
