package sqlstore

import (
	"context"
	"strings"

	"github.com/latchkey/latchkey"
)

// Members carry the user's email and name, so the console and SCIM can show
// them without a query per member.
const memberSelect = `SELECT m.workspace_id, m.user_id, u.email, u.name, m.role, m.active, NOT u.claimed, m.created_at
	FROM members m JOIN users u ON u.id = m.user_id `

func scanMember(row Row) (*latchkey.Member, error) {
	var m latchkey.Member
	if err := row.Scan(&m.WorkspaceID, &m.UserID, &m.Email, &m.Name, &m.Role, &m.Active, &m.Invited, &m.CreatedAt); err != nil {
		return nil, err
	}
	return &m, nil
}

// Member returns one membership; ENOTFOUND if the user is not a member.
func (s *Store) Member(ctx context.Context, workspaceID, userID string) (*latchkey.Member, error) {
	m, err := scanMember(s.read.QueryRow(ctx, memberSelect+`WHERE m.workspace_id = ? AND m.user_id = ?`, workspaceID, userID))
	if err != nil {
		return nil, s.notFound(err, "member")
	}
	return m, nil
}

// Members lists a workspace's members, oldest first; an unknown workspace
// has none.
func (s *Store) Members(ctx context.Context, workspaceID string) ([]*latchkey.Member, error) {
	return s.queryMembers(ctx, `WHERE m.workspace_id = ? ORDER BY m.created_at, m.user_id`, workspaceID)
}

func (s *Store) queryMembers(ctx context.Context, where string, args ...any) ([]*latchkey.Member, error) {
	rows, err := s.read.Query(ctx, memberSelect+where, args...)
	list, err := collect(rows, err, scanMember)
	if err != nil {
		return nil, s.wrap(err, "members")
	}
	return list, nil
}

// AddMember makes an existing user a member of a workspace and records ev.
// m.Email and m.Name are filled in from the user. EINVALID for an unknown
// role, ECONFLICT if the user already is a member, ENOTFOUND if the user or
// the workspace does not exist.
func (s *Store) AddMember(ctx context.Context, m *latchkey.Member, ev latchkey.Event) error {
	if !m.Role.Valid() {
		return invalidRole(m.Role)
	}
	return s.inTx(ctx, func(tx Conn) error {
		_, err := tx.Exec(ctx, `INSERT INTO members (workspace_id, user_id, role, active, created_at)
			VALUES (?, ?, ?, ?, ?)`, m.WorkspaceID, m.UserID, string(m.Role), m.Active, m.CreatedAt)
		switch {
		case s.isUnique(err, AnyConstraint):
			return latchkey.Errorf(latchkey.ECONFLICT, "the user is already a member of this workspace")
		case s.isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "user or workspace not found")
		case err != nil:
			return s.wrap(err, "add member")
		}
		err = tx.QueryRow(ctx, `SELECT email, name FROM users WHERE id = ?`, m.UserID).Scan(&m.Email, &m.Name)
		if err != nil {
			return s.wrap(err, "add member")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = m.WorkspaceID
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

// UpdateMember loads a membership, applies fn and stores its role and
// active flag with fn's event in one transaction that holds the
// workspace's row; the other fields cannot be changed by fn. fn's error is
// returned unchanged and nothing is written; a nil event means no change,
// and the member as stored is returned. ENOTFOUND if the user is not a
// member (fn is not called), EINVALID for an unknown role, ECONFLICT if the
// change would leave the workspace without an active owner.
func (s *Store) UpdateMember(ctx context.Context, workspaceID, userID string, fn func(*latchkey.Member) (*latchkey.Event, error)) (*latchkey.Member, error) {
	var out *latchkey.Member
	err := s.inTx(ctx, func(tx Conn) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		old, err := scanMember(tx.QueryRow(ctx, memberSelect+`WHERE m.workspace_id = ? AND m.user_id = ?`+s.lock("FOR NO KEY UPDATE OF m"),
			workspaceID, userID))
		if err != nil {
			return s.notFound(err, "member")
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
			if err := s.needOtherOwner(ctx, tx, workspaceID, userID); err != nil {
				return err
			}
		}
		_, err = tx.Exec(ctx, `UPDATE members SET role = ?, active = ? WHERE workspace_id = ? AND user_id = ?`,
			string(m.Role), m.Active, workspaceID, userID)
		if err != nil {
			return s.wrap(err, "update member")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = workspaceID
		}
		if err := s.insertEvent(ctx, tx, ev); err != nil {
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
func (s *Store) InviteMember(ctx context.Context, u *latchkey.User, m *latchkey.Member, inv *latchkey.Invite, ev latchkey.Event) error {
	if !m.Role.Valid() {
		return invalidRole(m.Role)
	}
	if u.Claimed {
		return latchkey.Errorf(latchkey.EINVALID, "an invitation creates an unclaimed identity")
	}
	return s.inTx(ctx, func(tx Conn) error {
		if err := s.lockWorkspace(ctx, tx, m.WorkspaceID); err != nil {
			return err
		}
		var exists bool
		err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM members m JOIN users u ON u.id = m.user_id
			WHERE m.workspace_id = ? AND u.email = ?)`, m.WorkspaceID, strings.ToLower(strings.TrimSpace(u.Email))).Scan(&exists)
		if err != nil {
			return s.wrap(err, "invite member")
		}
		if exists {
			return latchkey.ErrAlreadyMember()
		}
		if err := s.insertUser(ctx, tx, u); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, `INSERT INTO members (workspace_id, user_id, role, active, created_at)
			VALUES (?, ?, ?, ?, ?)`, m.WorkspaceID, u.ID, string(m.Role), m.Active, m.CreatedAt)
		if s.isForeignKey(err) {
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		}
		if err != nil {
			return s.wrap(err, "invite member")
		}
		m.UserID, m.Email, m.Name, m.Invited = u.ID, u.Email, u.Name, true
		if err := s.insertInvite(ctx, tx, inv); err != nil {
			return err
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = m.WorkspaceID
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

// RemoveMember deletes a membership and the user's pending invites to the
// workspace, and revokes the member's personal keys and the management
// keys they created there, with fn's events, in one transaction; see
// latchkey.WorkspaceStore.
func (s *Store) RemoveMember(ctx context.Context, workspaceID, userID string, fn func(*latchkey.Member, []*latchkey.Key) ([]latchkey.Event, error)) ([]*latchkey.Key, error) {
	var revoked []*latchkey.Key
	err := s.inTx(ctx, func(tx Conn) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		m, err := scanMember(tx.QueryRow(ctx, memberSelect+`WHERE m.workspace_id = ? AND m.user_id = ?`+s.lock("FOR UPDATE OF m"),
			workspaceID, userID))
		if err != nil {
			return s.notFound(err, "member")
		}
		rows, err := tx.Query(ctx, keySelect+`WHERE k.workspace_id = ?1 AND k.revoked_at IS NULL
			AND (k.owner = ?2 OR (k.type = ?3 AND k.created_by = ?2)) ORDER BY k.id`+s.lock("FOR UPDATE OF k"),
			workspaceID, userID, latchkey.TypeManagement)
		keys, err := collect(rows, err, scanKey)
		if err != nil {
			return s.wrap(err, "member keys")
		}
		evs, err := fn(m, keys)
		if err != nil {
			return err
		}
		if isActiveOwner(m) {
			if err := s.needOtherOwner(ctx, tx, workspaceID, userID); err != nil {
				return err
			}
		}
		if _, err := tx.Exec(ctx, `DELETE FROM members WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID); err != nil {
			return s.wrap(err, "remove member")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM invites WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID); err != nil {
			return s.wrap(err, "remove member")
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
			if err := s.insertEvent(ctx, tx, ev); err != nil {
				return err
			}
			k := byID[ev.Target]
			if k == nil || ev.Action != latchkey.EventKeyRevoked {
				continue
			}
			at := ev.At
			if _, err := tx.Exec(ctx, `UPDATE keys SET revoked_at = ?, revoked_by = ? WHERE id = ? AND workspace_id = ?`,
				at, ev.Actor.ID, k.ID, workspaceID); err != nil {
				return s.wrap(err, "revoke key")
			}
			k.RevokedAt, k.RevokedBy = &at, ev.Actor.ID
			if err := s.enqueueWebhook(ctx, tx, ev, k); err != nil {
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
func (s *Store) needOtherOwner(ctx context.Context, tx Conn, workspaceID, userID string) error {
	var others int
	err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM members
		WHERE workspace_id = ? AND role = ? AND active AND user_id <> ?`,
		workspaceID, string(latchkey.RoleOwner), userID).Scan(&others)
	if err != nil {
		return s.wrap(err, "count owners")
	}
	if others == 0 {
		return latchkey.Errorf(latchkey.ECONFLICT, "a workspace needs at least one active owner").WithDetail("field", "role")
	}
	return nil
}

func invalidRole(r latchkey.Role) error {
	return latchkey.Errorf(latchkey.EINVALID, "unknown role %q", r).WithDetail("field", "role")
}
