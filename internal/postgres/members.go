package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

// Members carry the user's email and name, so the console and SCIM can show
// them without a query per member.
const memberSelect = `SELECT m.workspace_id, m.user_id, u.email, u.name, m.role, m.active, NOT u.claimed, m.created_at
	FROM members m JOIN users u ON u.id = m.user_id `

func scanMember(row pgx.Row) (*latchkey.Member, error) {
	var m latchkey.Member
	var created time.Time
	if err := row.Scan(&m.WorkspaceID, &m.UserID, &m.Email, &m.Name, &m.Role, &m.Active, &m.Invited, &created); err != nil {
		return nil, err
	}
	m.CreatedAt = utc(created)
	return &m, nil
}

// Member returns one membership; ENOTFOUND if the user is not a member.
func (db *DB) Member(ctx context.Context, workspaceID, userID string) (*latchkey.Member, error) {
	m, err := scanMember(db.pool.QueryRow(ctx, memberSelect+`WHERE m.workspace_id = $1 AND m.user_id = $2`, workspaceID, userID))
	if err != nil {
		return nil, notFound(err, "member")
	}
	return m, nil
}

// Members lists a workspace's members, oldest first; an unknown workspace
// has none.
func (db *DB) Members(ctx context.Context, workspaceID string) ([]*latchkey.Member, error) {
	return db.queryMembers(ctx, `WHERE m.workspace_id = $1 ORDER BY m.created_at, m.user_id`, workspaceID)
}

func (db *DB) queryMembers(ctx context.Context, where string, args ...any) ([]*latchkey.Member, error) {
	rows, err := db.pool.Query(ctx, memberSelect+where, args...)
	if err != nil {
		return nil, fmt.Errorf("postgres: members: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.Member, error) { return scanMember(row) })
	if err != nil {
		return nil, fmt.Errorf("postgres: members: %w", err)
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
	return db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO members (workspace_id, user_id, role, active, created_at)
			VALUES ($1, $2, $3, $4, $5)`, m.WorkspaceID, m.UserID, string(m.Role), m.Active, m.CreatedAt)
		switch {
		case isUnique(err, ""):
			return latchkey.Errorf(latchkey.ECONFLICT, "the user is already a member of this workspace")
		case isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "user or workspace not found")
		case err != nil:
			return wrap(err, "add member")
		}
		err = tx.QueryRow(ctx, `SELECT email, name FROM users WHERE id = $1`, m.UserID).Scan(&m.Email, &m.Name)
		if err != nil {
			return wrap(err, "add member")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = m.WorkspaceID
		}
		return insertEvent(ctx, tx, &ev)
	})
}

// UpdateMember loads a membership, applies fn and stores its role and
// active flag with fn's event in one transaction that holds the
// workspace's row; the other fields cannot be changed by fn. fn's error is
// returned unchanged and nothing is written; a nil event means no change,
// and the member as stored is returned. ENOTFOUND if the user is not a
// member (fn is not called), EINVALID for an unknown role, ECONFLICT if the
// change would leave the workspace without an active owner.
func (db *DB) UpdateMember(ctx context.Context, workspaceID, userID string, fn func(*latchkey.Member) (*latchkey.Event, error)) (*latchkey.Member, error) {
	var out *latchkey.Member
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		old, err := scanMember(tx.QueryRow(ctx, memberSelect+`WHERE m.workspace_id = $1 AND m.user_id = $2
			FOR NO KEY UPDATE OF m`, workspaceID, userID))
		if err != nil {
			return notFound(err, "member")
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
		_, err = tx.Exec(ctx, `UPDATE members SET role = $1, active = $2 WHERE workspace_id = $3 AND user_id = $4`,
			string(m.Role), m.Active, workspaceID, userID)
		if err != nil {
			return wrap(err, "update member")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = workspaceID
		}
		if err := insertEvent(ctx, tx, ev); err != nil {
			return err
		}
		out = old
		out.Role, out.Active = m.Role, m.Active
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// InviteMember inserts an unclaimed identity, its membership and its
// invite with ev, all or nothing; see latchkey.WorkspaceStore. The
// workspace row lock serialises it with other membership changes, so two
// invitations of one address cannot both pass the check.
func (db *DB) InviteMember(ctx context.Context, u *latchkey.User, m *latchkey.Member, inv *latchkey.Invite, ev latchkey.Event) error {
	if !m.Role.Valid() {
		return invalidRole(m.Role)
	}
	if u.Claimed {
		return latchkey.Errorf(latchkey.EINVALID, "an invitation creates an unclaimed identity")
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockWorkspace(ctx, tx, m.WorkspaceID); err != nil {
			return err
		}
		var exists bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM members m JOIN users u ON u.id = m.user_id
			WHERE m.workspace_id = $1 AND u.email = $2)`, m.WorkspaceID, strings.ToLower(strings.TrimSpace(u.Email))).Scan(&exists)
		if err != nil {
			return wrap(err, "invite member")
		}
		if exists {
			return latchkey.ErrAlreadyMember()
		}
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO members (workspace_id, user_id, role, active, created_at)
			VALUES ($1, $2, $3, $4, $5)`, m.WorkspaceID, u.ID, string(m.Role), m.Active, m.CreatedAt)
		if isForeignKey(err) {
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		}
		if err != nil {
			return wrap(err, "invite member")
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
// keys they created there, with fn's events, in one transaction; see
// latchkey.WorkspaceStore.
func (db *DB) RemoveMember(ctx context.Context, workspaceID, userID string, fn func(*latchkey.Member, []*latchkey.Key) ([]latchkey.Event, error)) ([]*latchkey.Key, error) {
	var revoked []*latchkey.Key
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		m, err := scanMember(tx.QueryRow(ctx, memberSelect+`WHERE m.workspace_id = $1 AND m.user_id = $2
			FOR UPDATE OF m`, workspaceID, userID))
		if err != nil {
			return notFound(err, "member")
		}
		rows, err := tx.Query(ctx, keySelect+`WHERE k.workspace_id = $1 AND k.revoked_at IS NULL
			AND (k.owner = $2 OR (k.type = $3 AND k.created_by = $2)) ORDER BY k.id FOR UPDATE OF k`,
			workspaceID, userID, latchkey.TypeManagement)
		if err != nil {
			return wrap(err, "member keys")
		}
		keys, err := collectKeys(rows)
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
		if _, err := tx.Exec(ctx, `DELETE FROM members WHERE workspace_id = $1 AND user_id = $2`, workspaceID, userID); err != nil {
			return wrap(err, "remove member")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM invites WHERE workspace_id = $1 AND user_id = $2`, workspaceID, userID); err != nil {
			return wrap(err, "remove member")
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
			if _, err := tx.Exec(ctx, `UPDATE keys SET revoked_at = $1, revoked_by = $2 WHERE id = $3 AND workspace_id = $4`,
				at, ev.Actor.ID, k.ID, workspaceID); err != nil {
				return wrap(err, "revoke key")
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
// besides userID. Its caller holds the workspace's row, so the count cannot
// change before the transaction ends: of two owners leaving at once, the
// second sees the first gone.
func needOtherOwner(ctx context.Context, tx pgx.Tx, workspaceID, userID string) error {
	var others int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM members
		WHERE workspace_id = $1 AND role = $2 AND active AND user_id <> $3`,
		workspaceID, string(latchkey.RoleOwner), userID).Scan(&others)
	if err != nil {
		return wrap(err, "count owners")
	}
	if others == 0 {
		return latchkey.Errorf(latchkey.ECONFLICT, "a workspace needs at least one active owner").WithDetail("field", "role")
	}
	return nil
}

func invalidRole(r latchkey.Role) error {
	return latchkey.Errorf(latchkey.EINVALID, "unknown role %q", r).WithDetail("field", "role")
}
