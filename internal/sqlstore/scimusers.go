package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlfilter"
)

const scimUserSelect = `SELECT s.workspace_id, s.user_id, s.user_name, COALESCE(s.external_id, ''), m.active,
	s.emails, s.doc, u.email, u.name, s.created_at, s.updated_at, s.version
	FROM scim_users s
	JOIN members m ON m.workspace_id = s.workspace_id AND m.user_id = s.user_id
	JOIN users u ON u.id = s.user_id `

func scanScimUser(row Row) (*latchkey.ScimUser, error) {
	var u latchkey.ScimUser
	var emails, doc []byte
	if err := row.Scan(&u.WorkspaceID, &u.UserID, &u.UserName, &u.ExternalID, &u.Active,
		&emails, &doc, &u.Email, &u.Name, &u.Created, &u.Updated, &u.Version); err != nil {
		return nil, err
	}
	if err := unmarshal(emails, &u.Emails); err != nil {
		return nil, err
	}
	if err := unmarshal(doc, &u.Doc); err != nil {
		return nil, err
	}
	return &u, nil
}

// ScimUser returns a provisioned user; ENOTFOUND if none.
func (s *Store) ScimUser(ctx context.Context, workspaceID, userID string) (*latchkey.ScimUser, error) {
	u, err := scanScimUser(s.read.QueryRow(ctx, scimUserSelect+`WHERE s.workspace_id = ? AND s.user_id = ?`, workspaceID, userID))
	if err != nil {
		return nil, s.notFound(err, "user")
	}
	return u, nil
}

// ScimUsers returns a page of the users matching q, in id (creation)
// order, and how many match.
func (s *Store) ScimUsers(ctx context.Context, q latchkey.ScimQuery) ([]*latchkey.ScimUser, int, error) {
	cond, args, err := sqlfilter.Users(s.db.ScimFilter(), q)
	if err != nil {
		return nil, 0, err
	}
	var total int
	err = s.read.QueryRow(ctx, `SELECT COUNT(*) FROM scim_users s
		JOIN members m ON m.workspace_id = s.workspace_id AND m.user_id = s.user_id WHERE `+cond, args...).Scan(&total)
	if err != nil {
		return nil, 0, s.wrap(err, "scim users")
	}
	list := []*latchkey.ScimUser{}
	if q.Limit <= 0 || q.Offset >= total {
		return list, total, nil
	}
	rows, err := s.read.Query(ctx, scimUserSelect+`WHERE `+cond+` ORDER BY s.user_id LIMIT ? OFFSET ?`,
		append(args, q.Limit, q.Offset)...)
	list, err = collect(rows, err, scanScimUser)
	if err != nil {
		return nil, 0, s.wrap(err, "scim users")
	}
	return list, total, nil
}

// CreateScimUser stores a provisioned user, creating the user and the
// membership as needed; see latchkey.ScimStore.
func (s *Store) CreateScimUser(ctx context.Context, u *latchkey.ScimUser, newUser *latchkey.User, fn func(*latchkey.Member) ([]latchkey.Event, error)) error {
	return s.inTx(ctx, func(tx Conn) error {
		if err := s.lockWorkspace(ctx, tx, u.WorkspaceID); err != nil {
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		}
		if newUser != nil {
			if err := s.insertUser(ctx, tx, newUser); err != nil {
				return err
			}
		}
		prev, err := scanMember(tx.QueryRow(ctx, memberSelect+`WHERE m.workspace_id = ? AND m.user_id = ?`+s.lock("FOR NO KEY UPDATE OF m"),
			u.WorkspaceID, u.UserID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			prev = nil
		case err != nil:
			return s.wrap(err, "scim user")
		}
		evs, err := fn(prev)
		if err != nil {
			return err
		}
		if prev == nil {
			_, err = tx.Exec(ctx, `INSERT INTO members (workspace_id, user_id, role, active, created_at) VALUES (?, ?, ?, ?, ?)`,
				u.WorkspaceID, u.UserID, string(latchkey.RoleMember), u.Active, u.Created)
			if s.isForeignKey(err) {
				return latchkey.Errorf(latchkey.ENOTFOUND, "user or workspace not found")
			}
		} else {
			err = s.setActive(ctx, tx, prev, u.Active)
		}
		if err != nil {
			return s.wrap(err, "scim user")
		}
		u.Version = 1
		if err := s.writeScimUser(ctx, tx, u, true); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT email, name FROM users WHERE id = ?`, u.UserID).Scan(&u.Email, &u.Name); err != nil {
			return s.wrap(err, "scim user")
		}
		return s.insertEvents(ctx, tx, u.WorkspaceID, evs)
	})
}

// setActive applies a SCIM active flag to a membership under the
// last-owner rule; the caller holds the workspace's row.
func (s *Store) setActive(ctx context.Context, tx Conn, m *latchkey.Member, active bool) error {
	if m.Active == active {
		return nil
	}
	if isActiveOwner(m) {
		if err := s.needOtherOwner(ctx, tx, m.WorkspaceID, m.UserID); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `UPDATE members SET active = ? WHERE workspace_id = ? AND user_id = ?`, active, m.WorkspaceID, m.UserID)
	return err
}

// UpdateScimUser applies fn to a provisioned user; see latchkey.ScimStore.
func (s *Store) UpdateScimUser(ctx context.Context, workspaceID, userID string, fn func(*latchkey.ScimUser) ([]latchkey.Event, error)) (*latchkey.ScimUser, error) {
	var out *latchkey.ScimUser
	err := s.inTx(ctx, func(tx Conn) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return latchkey.Errorf(latchkey.ENOTFOUND, "user not found")
		}
		load := func() (*latchkey.ScimUser, error) {
			u, err := scanScimUser(tx.QueryRow(ctx, scimUserSelect+`WHERE s.workspace_id = ? AND s.user_id = ?`, workspaceID, userID))
			if err != nil {
				return nil, s.notFound(err, "user")
			}
			return u, nil
		}
		old, err := load()
		if err != nil {
			return err
		}
		u, err := load() // a copy fn may change freely
		if err != nil {
			return err
		}
		evs, err := fn(u)
		if err != nil || len(evs) == 0 {
			out = old
			return err
		}
		u.WorkspaceID, u.UserID, u.Created, u.Version = workspaceID, userID, old.Created, old.Version+1
		m := &latchkey.Member{WorkspaceID: workspaceID, UserID: userID, Active: old.Active}
		if err := tx.QueryRow(ctx, `SELECT role FROM members WHERE workspace_id = ? AND user_id = ?`, workspaceID, userID).Scan(&m.Role); err != nil {
			return s.wrap(err, "scim user")
		}
		if err := s.setActive(ctx, tx, m, u.Active); err != nil {
			return s.wrap(err, "scim user")
		}
		if err := s.writeScimUser(ctx, tx, u, false); err != nil {
			return err
		}
		if u.Email != old.Email || u.Name != old.Name {
			if err := s.syncLogin(ctx, tx, u); err != nil {
				return err
			}
		}
		if err := s.insertEvents(ctx, tx, workspaceID, evs); err != nil {
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

// syncLogin lets the user's login email and name follow their SCIM
// attributes, only when this workspace is their only one and the email is
// not another user's: an identity provider must never take over an account
// that other workspaces know.
func (s *Store) syncLogin(ctx context.Context, tx Conn, u *latchkey.ScimUser) error {
	var others int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM members WHERE user_id = ? AND workspace_id <> ?`, u.UserID, u.WorkspaceID).Scan(&others); err != nil {
		return s.wrap(err, "scim user")
	}
	if others > 0 {
		return nil
	}
	email := strings.ToLower(strings.TrimSpace(u.Email))
	var taken int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM users o WHERE o.email = ?1 AND o.id <> ?2
		AND ((o.claimed AND (SELECT claimed FROM users WHERE id = ?2))
			OR EXISTS (SELECT 1 FROM members m WHERE m.user_id = o.id AND m.workspace_id = ?3))`, email, u.UserID, u.WorkspaceID).Scan(&taken); err != nil {
		return s.wrap(err, "scim user")
	}
	var err error
	if taken > 0 || email == "" {
		_, err = tx.Exec(ctx, `UPDATE users SET name = ? WHERE id = ?`, u.Name, u.UserID)
	} else {
		_, err = tx.Exec(ctx, `UPDATE users SET email = ?, name = ? WHERE id = ?`, email, u.Name, u.UserID)
	}
	return s.wrap(err, "scim user")
}

// writeScimUser inserts or updates the record and rewrites its derived rows.
func (s *Store) writeScimUser(ctx context.Context, tx Conn, u *latchkey.ScimUser, insert bool) error {
	emails, err := marshal(u.Emails, "[]")
	if err != nil {
		return err
	}
	doc, err := marshal(u.Doc, "{}")
	if err != nil {
		return err
	}
	attrs, err := marshal(u.Search(), "{}")
	if err != nil {
		return err
	}
	var ext *string
	if u.ExternalID != "" {
		ext = &u.ExternalID
	}
	if insert {
		_, err = tx.Exec(ctx, `INSERT INTO scim_users (workspace_id, user_id, user_name, user_name_lower, external_id,
			emails, doc, attrs, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			u.WorkspaceID, u.UserID, u.UserName, strings.ToLower(u.UserName), ext, emails, doc, attrs, u.Created, u.Updated, u.Version)
	} else {
		_, err = tx.Exec(ctx, `UPDATE scim_users SET user_name = ?, user_name_lower = ?, external_id = ?,
			emails = ?, doc = ?, attrs = ?, updated_at = ?, version = ? WHERE workspace_id = ? AND user_id = ?`,
			u.UserName, strings.ToLower(u.UserName), ext, emails, doc, attrs, u.Updated, u.Version, u.WorkspaceID, u.UserID)
		if err == nil {
			_, err = tx.Exec(ctx, `DELETE FROM scim_emails WHERE workspace_id = ? AND user_id = ?`, u.WorkspaceID, u.UserID)
		}
		if err == nil {
			_, err = tx.Exec(ctx, `DELETE FROM scim_user_extensions WHERE workspace_id = ? AND user_id = ?`, u.WorkspaceID, u.UserID)
		}
	}
	switch {
	case s.isUnique(err, ScimUserName):
		return uniqueness("a user with the userName %q already exists in this workspace", u.UserName)
	case s.isUnique(err, AnyConstraint):
		return uniqueness("this user is already provisioned in this workspace")
	case err != nil:
		return s.wrap(err, "write scim user")
	}
	for i, e := range u.Emails {
		if _, err := tx.Exec(ctx, `INSERT INTO scim_emails (workspace_id, user_id, position, value_lower, type_lower, is_primary)
			VALUES (?, ?, ?, ?, ?, ?)`, u.WorkspaceID, u.UserID, i, strings.ToLower(e.Value), strings.ToLower(e.Type), e.Primary); err != nil {
			return s.wrap(err, "write scim emails")
		}
	}
	for _, a := range u.ExtensionAttrs() {
		if _, err := tx.Exec(ctx, `INSERT INTO scim_user_extensions (workspace_id, user_id, urn, attr, type, multi_valued)
			VALUES (?, ?, ?, ?, ?, ?)`, u.WorkspaceID, u.UserID, a.URN, a.Name, a.Type, a.MultiValued); err != nil {
			return s.wrap(err, "write scim extensions")
		}
	}
	return nil
}

func uniqueness(format string, args ...any) error {
	return latchkey.Errorf(latchkey.ECONFLICT, format, args...).WithDetail("scim_type", "uniqueness")
}

func (s *Store) insertEvents(ctx context.Context, tx Conn, workspaceID string, evs []latchkey.Event) error {
	for i := range evs {
		if evs[i].WorkspaceID == "" {
			evs[i].WorkspaceID = workspaceID
		}
		if err := s.insertEvent(ctx, tx, &evs[i]); err != nil {
			return err
		}
	}
	return nil
}

// ScimExtensionAttrs lists the custom extension attributes stored in a workspace.
func (s *Store) ScimExtensionAttrs(ctx context.Context, workspaceID string) ([]latchkey.ScimExtensionAttr, error) {
	// COUNT(…) > 0 is the "any" both databases spell alike.
	rows, err := s.read.Query(ctx, `SELECT urn, attr, MIN(type), COUNT(CASE WHEN multi_valued THEN 1 END) > 0
		FROM scim_user_extensions WHERE workspace_id = ? GROUP BY urn, attr ORDER BY urn, attr`, workspaceID)
	out, err := collect(rows, err, func(r Row) (latchkey.ScimExtensionAttr, error) {
		var a latchkey.ScimExtensionAttr
		err := r.Scan(&a.URN, &a.Name, &a.Type, &a.MultiValued)
		return a, err
	})
	return out, s.wrap(err, "scim extensions")
}
