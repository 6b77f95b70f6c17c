package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey"
)

// Members carry the user's email and name, so the console and SCIM can show
// them without a query per member.
const memberSelect = `SELECT m.workspace_id, m.user_id, u.email, u.name, m.role, m.active, NOT u.claimed, m.created_at
	FROM members m JOIN users u ON u.id = m.user_id `

func scanMember(row interface{ Scan(...any) error }) (*latchkey.Member, error) {
	var m latchkey.Member
	var created int64
	if err := row.Scan(&m.WorkspaceID, &m.UserID, &m.Email, &m.Name, &m.Role, &m.Active, &m.Invited, &created); err != nil {
		return nil, err
	}
	m.CreatedAt = fromMicros(created)
	return &m, nil
}

// Member returns one membership; ENOTFOUND if the user is not a member.
func (db *DB) Member(ctx context.Context, workspaceID, userID string) (*latchkey.Member, error) {
	m, err := scanMember(db.read.QueryRowContext(ctx,
		memberSelect+`WHERE m.workspace_id = ? AND m.user_id = ?`, workspaceID, userID))
	if err != nil {
		return nil, notFound(err, "member")
	}
	return m, nil
}

// Members lists a workspace's members, oldest first; an unknown workspace
// has none.
func (db *DB) Members(ctx context.Context, workspaceID string) ([]*latchkey.Member, error) {
	return db.queryMembers(ctx, `WHERE m.workspace_id = ? ORDER BY m.created_at, m.user_id`, workspaceID)
}

func (db *DB) queryMembers(ctx context.Context, where string, args ...any) ([]*latchkey.Member, error) {
	rows, err := db.read.QueryContext(ctx, memberSelect+where, args...)
	if err != nil {
		return nil, fmt.Errorf("sqlite: members: %w", err)
	}
	defer rows.Close()
	list := []*latchkey.Member{}
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: members: %w", err)
		}
		list = append(list, m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: members: %w", err)
	}
	return list, nil
}

// AddMember makes an existing user a member of a workspace and records ev.
// m.Email and m.Name are filled in from the user. EINVALID for an unknown
// role, ECONFLICT if the user already is a member, ENOTFOUND if the user or
// the workspace does not exist.
func (db *DB) AddMember(ctx context.Context, m *latchkey.Member, ev latchkey.Event) error {
	if !m.Role.Valid() {
		return invalidRole(m.Role)
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO members (workspace_id, user_id, role, active, created_at)
			VALUES (?, ?, ?, ?, ?)`, m.WorkspaceID, m.UserID, string(m.Role), m.Active, micros(m.CreatedAt))
		switch {
		case isUnique(err, ""):
			return latchkey.Errorf(latchkey.ECONFLICT, "the user is already a member of this workspace")
		case isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "user or workspace not found")
		case err != nil:
			return fmt.Errorf("sqlite: add member: %w", err)
		}
		err = tx.QueryRowContext(ctx, `SELECT email, name FROM users WHERE id = ?`, m.UserID).Scan(&m.Email, &m.Name)
		if err != nil {
			return fmt.Errorf("sqlite: add member: %w", err)
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = m.WorkspaceID
		}
		return insertEvent(ctx, tx, &ev)
	})
}

// UpdateMember loads a membership, applies fn and stores its role and
// active flag with fn's event in one write transaction; the other fields
// cannot be changed by fn. fn's error is returned unchanged and nothing is
// written; a nil event means no change, and the member as stored is
// returned. ENOTFOUND if the user is not a member, EINVALID for an unknown
// role, ECONFLICT if the change would leave the workspace without an
// active owner. fn must not call the store's write methods.
func (db *DB) UpdateMember(ctx context.Context, workspaceID, userID string, fn func(*latchkey.Member) (*latchkey.Event, error)) (*latchkey.Member, error) {
	var out *latchkey.Member
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		load := func() (*latchkey.Member, error) {
			m, err := scanMember(tx.QueryRowContext(ctx,
				memberSelect+`WHERE m.workspace_id = ? AND m.user_id = ?`, workspaceID, userID))
			if err != nil {
				return nil, notFound(err, "member")
			}
			return m, nil
		}
		old, err := load()
		if err != nil {
			return err
		}
		m := *old
		ev, err := fn(&m)
		if err != nil {
			return err
		}
		if ev == nil {
			out = old
			return nil
		}
		if !m.Role.Valid() {
			return invalidRole(m.Role)
		}
		if isActiveOwner(old) && !isActiveOwner(&m) {
			if err := needOtherOwner(ctx, tx, workspaceID, userID); err != nil {
				return err
			}
		}
		_, err = tx.ExecContext(ctx, `UPDATE members SET role = ?, active = ? WHERE workspace_id = ? AND user_id = ?`,
			string(m.Role), m.Active, workspaceID, userID)
		if err != nil {
			return fmt.Errorf("sqlite: update member: %w", err)
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = workspaceID
		}
		if err := insertEvent(ctx, tx, ev); err != nil {
			return err
		}
		out, err = load()
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// InviteMember inserts an unclaimed identity, its membership and its
// invite with ev, all or nothing; see latchkey.WorkspaceStore.
func (db *DB) InviteMember(ctx context.Context, u *latchkey.User, m *latchkey.Member, inv *latchkey.Invite, ev latchkey.Event) error {
	if !m.Role.Valid() {
		return invalidRole(m.Role)
	}
	if u.Claimed {
		return latchkey.Errorf(latchkey.EINVALID, "an invitation creates an unclaimed identity")
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var exists bool
		err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM members m JOIN users u ON u.id = m.user_id
			WHERE m.workspace_id = ? AND u.email = ?)`, m.WorkspaceID, strings.ToLower(strings.TrimSpace(u.Email))).Scan(&exists)
		if err != nil {
			return fmt.Errorf("sqlite: invite member: %w", err)
		}
		if exists {
			return latchkey.ErrAlreadyMember()
		}
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO members (workspace_id, user_id, role, active, created_at)
			VALUES (?, ?, ?, ?, ?)`, m.WorkspaceID, u.ID, string(m.Role), m.Active, micros(m.CreatedAt))
		switch {
		case isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		case err != nil:
			return fmt.Errorf("sqlite: invite member: %w", err)
		}
		m.UserID, m.Email, m.Name, m.Invited = u.ID, u.Email, u.Name, true
		if err := insertInvite(ctx, tx, inv); err != nil {
			return err
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = m.WorkspaceID
		}
		return insertEvent(ctx, tx, &ev)
	})
}

// RemoveMember deletes a membership and the user's pending invites to the
// workspace, and revokes the member's personal keys and the management
// keys they created there, with fn's events, in one write transaction; see
// latchkey.WorkspaceStore.
func (db *DB) RemoveMember(ctx context.Context, workspaceID, userID string, fn func(*latchkey.Member, []*latchkey.Key) ([]latchkey.Event, error)) ([]*latchkey.Key, error) {
	var revoked []*latchkey.Key
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		m, err := scanMember(tx.QueryRowContext(ctx,
			memberSelect+`WHERE m.workspace_id = ? AND m.user_id = ?`, workspaceID, userID))
		if err != nil {
			return notFound(err, "member")
		}
		rows, err := tx.QueryContext(ctx, keySelect+`WHERE k.workspace_id = ? AND k.revoked_at IS NULL
			AND (k.owner = ? OR (k.type = ? AND k.created_by = ?)) ORDER BY k.id`,
			workspaceID, userID, latchkey.TypeManagement, userID)
		if err != nil {
			return fmt.Errorf("sqlite: member keys: %w", err)
		}
		keys, err := scanKeys(rows)
		if err != nil {
			return err
		}
		evs, err := fn(m, keys)
		if err != nil {
			return err
		}
		if isActiveOwner(m) {
			if err := needOtherOwner(ctx, tx, workspaceID, userID); err != nil {
				return err
			}
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM members WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID); err != nil {
			return fmt.Errorf("sqlite: remove member: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM invites WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID); err != nil {
			return fmt.Errorf("sqlite: remove member: %w", err)
		}
		byID := map[string]*latchkey.Key{}
		for _, k := range keys {
			byID[k.ID] = k
		}
		for i := range evs {
			ev := &evs[i]
			if ev.WorkspaceID == "" {
				ev.WorkspaceID = workspaceID
			}
			if err := insertEvent(ctx, tx, ev); err != nil {
				return err
			}
			k := byID[ev.Target]
			if k == nil || ev.Action != latchkey.EventKeyRevoked {
				continue
			}
			at := ev.At
			if _, err := tx.ExecContext(ctx, `UPDATE keys SET revoked_at = ?, revoked_by = ? WHERE id = ? AND workspace_id = ?`,
				micros(at), ev.Actor.ID, k.ID, workspaceID); err != nil {
				return fmt.Errorf("sqlite: revoke key: %w", err)
			}
			k.RevokedAt, k.RevokedBy = &at, ev.Actor.ID
			if err := enqueueWebhook(ctx, tx, ev, k); err != nil {
				return err
			}
			revoked = append(revoked, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return revoked, nil
}

func isActiveOwner(m *latchkey.Member) bool { return m.Role == latchkey.RoleOwner && m.Active }

// needOtherOwner answers ECONFLICT unless the workspace has an active owner
// besides userID. The single write connection serialises it with every
// other membership change, so two owners cannot both leave at once.
func needOtherOwner(ctx context.Context, tx *sql.Tx, workspaceID, userID string) error {
	var others int
	err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM members
		WHERE workspace_id = ? AND role = ? AND active AND user_id <> ?`,
		workspaceID, string(latchkey.RoleOwner), userID).Scan(&others)
	if err != nil {
		return fmt.Errorf("sqlite: count owners: %w", err)
	}
	if others == 0 {
		return latchkey.Errorf(latchkey.ECONFLICT, "a workspace needs at least one active owner").WithDetail("field", "role")
	}
	return nil
}

func invalidRole(r latchkey.Role) error {
	return latchkey.Errorf(latchkey.EINVALID, "unknown role %q", r).WithDetail("field", "role")
}
