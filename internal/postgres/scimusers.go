package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlfilter"
)

const scimUserSelect = `SELECT s.workspace_id, s.user_id, s.user_name, COALESCE(s.external_id, ''), m.active,
	s.emails, s.doc, u.email, u.name, s.created_at, s.updated_at, s.version
	FROM scim_users s
	JOIN members m ON m.workspace_id = s.workspace_id AND m.user_id = s.user_id
	JOIN users u ON u.id = s.user_id `

func scanScimUser(row pgx.Row) (*latchkey.ScimUser, error) {
	var u latchkey.ScimUser
	var emails, doc []byte
	var created, updated time.Time
	if err := row.Scan(&u.WorkspaceID, &u.UserID, &u.UserName, &u.ExternalID, &u.Active,
		&emails, &doc, &u.Email, &u.Name, &created, &updated, &u.Version); err != nil {
		return nil, err
	}
	if err := unmarshal(emails, &u.Emails); err != nil {
		return nil, err
	}
	if err := unmarshal(doc, &u.Doc); err != nil {
		return nil, err
	}
	u.Created, u.Updated = utc(created), utc(updated)
	return &u, nil
}

// ScimUser returns a provisioned user; ENOTFOUND if none.
func (db *DB) ScimUser(ctx context.Context, workspaceID, userID string) (*latchkey.ScimUser, error) {
	u, err := scanScimUser(db.pool.QueryRow(ctx, scimUserSelect+`WHERE s.workspace_id = $1 AND s.user_id = $2`, workspaceID, userID))
	if err != nil {
		return nil, notFound(err, "user")
	}
	return u, nil
}

// ScimUsers returns a page of the users matching q, in id (creation)
// order, and how many match.
func (db *DB) ScimUsers(ctx context.Context, q latchkey.ScimQuery) ([]*latchkey.ScimUser, int, error) {
	cond, args, err := sqlfilter.Users(scimDialect{}, q)
	if err != nil {
		return nil, 0, err
	}
	var total int
	err = db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM scim_users s
		JOIN members m ON m.workspace_id = s.workspace_id AND m.user_id = s.user_id WHERE `+cond, args...).Scan(&total)
	if err != nil {
		return nil, 0, wrap(err, "scim users")
	}
	list := []*latchkey.ScimUser{}
	if q.Limit <= 0 || q.Offset >= total {
		return list, total, nil
	}
	n := len(args)
	rows, err := db.pool.Query(ctx, scimUserSelect+`WHERE `+cond+fmt.Sprintf(` ORDER BY s.user_id LIMIT $%d OFFSET $%d`, n+1, n+2),
		append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, wrap(err, "scim users")
	}
	list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*latchkey.ScimUser, error) { return scanScimUser(r) })
	if err != nil {
		return nil, 0, wrap(err, "scim users")
	}
	return list, total, nil
}

// CreateScimUser stores a provisioned user, creating the user and the
// membership as needed; see latchkey.ScimStore.
func (db *DB) CreateScimUser(ctx context.Context, u *latchkey.ScimUser, newUser *latchkey.User, fn func(*latchkey.Member) ([]latchkey.Event, error)) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockWorkspace(ctx, tx, u.WorkspaceID); err != nil {
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		}
		if newUser != nil {
			if err := insertUser(ctx, tx, newUser); err != nil {
				return err
			}
		}
		prev, err := scanMember(tx.QueryRow(ctx, memberSelect+`WHERE m.workspace_id = $1 AND m.user_id = $2 FOR NO KEY UPDATE OF m`, u.WorkspaceID, u.UserID))
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			prev = nil
		case err != nil:
			return wrap(err, "scim user")
		}
		evs, err := fn(prev)
		if err != nil {
			return err
		}
		if prev == nil {
			_, err = tx.Exec(ctx, `INSERT INTO members (workspace_id, user_id, role, active, created_at) VALUES ($1, $2, $3, $4, $5)`,
				u.WorkspaceID, u.UserID, string(latchkey.RoleMember), u.Active, u.Created)
			if isForeignKey(err) {
				return latchkey.Errorf(latchkey.ENOTFOUND, "user or workspace not found")
			}
		} else {
			err = setActive(ctx, tx, prev, u.Active)
		}
		if err != nil {
			return wrap(err, "scim user")
		}
		u.Version = 1
		if err := writeScimUser(ctx, tx, u, true); err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `SELECT email, name FROM users WHERE id = $1`, u.UserID).Scan(&u.Email, &u.Name); err != nil {
			return wrap(err, "scim user")
		}
		return insertEvents(ctx, tx, u.WorkspaceID, evs)
	})
}

// setActive applies a SCIM active flag to a membership under the
// last-owner rule; the caller holds the workspace's row.
func setActive(ctx context.Context, tx pgx.Tx, m *latchkey.Member, active bool) error {
	if m.Active == active {
		return nil
	}
	if isActiveOwner(m) {
		if err := needOtherOwner(ctx, tx, m.WorkspaceID, m.UserID); err != nil {
			return err
		}
	}
	_, err := tx.Exec(ctx, `UPDATE members SET active = $1 WHERE workspace_id = $2 AND user_id = $3`, active, m.WorkspaceID, m.UserID)
	return err
}

// UpdateScimUser applies fn to a provisioned user; see latchkey.ScimStore.
func (db *DB) UpdateScimUser(ctx context.Context, workspaceID, userID string, fn func(*latchkey.ScimUser) ([]latchkey.Event, error)) (*latchkey.ScimUser, error) {
	var out *latchkey.ScimUser
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		if err := lockWorkspace(ctx, tx, workspaceID); err != nil {
			return latchkey.Errorf(latchkey.ENOTFOUND, "user not found")
		}
		load := func() (*latchkey.ScimUser, error) {
			u, err := scanScimUser(tx.QueryRow(ctx, scimUserSelect+`WHERE s.workspace_id = $1 AND s.user_id = $2`, workspaceID, userID))
			if err != nil {
				return nil, notFound(err, "user")
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
		if err := tx.QueryRow(ctx, `SELECT role FROM members WHERE workspace_id = $1 AND user_id = $2`, workspaceID, userID).Scan(&m.Role); err != nil {
			return wrap(err, "scim user")
		}
		if err := setActive(ctx, tx, m, u.Active); err != nil {
			return wrap(err, "scim user")
		}
		if err := writeScimUser(ctx, tx, u, false); err != nil {
			return err
		}
		if u.Email != old.Email || u.Name != old.Name {
			if err := syncLogin(ctx, tx, u); err != nil {
				return err
			}
		}
		if err := insertEvents(ctx, tx, workspaceID, evs); err != nil {
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
func syncLogin(ctx context.Context, tx pgx.Tx, u *latchkey.ScimUser) error {
	var others int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM members WHERE user_id = $1 AND workspace_id <> $2`, u.UserID, u.WorkspaceID).Scan(&others); err != nil {
		return wrap(err, "scim user")
	}
	if others > 0 {
		return nil
	}
	email := strings.ToLower(strings.TrimSpace(u.Email))
	var taken int
	if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM users o WHERE o.email = $1 AND o.id <> $2
		AND ((o.claimed AND (SELECT claimed FROM users WHERE id = $2))
			OR EXISTS (SELECT 1 FROM members m WHERE m.user_id = o.id AND m.workspace_id = $3))`, email, u.UserID, u.WorkspaceID).Scan(&taken); err != nil {
		return wrap(err, "scim user")
	}
	var err error
	if taken > 0 || email == "" {
		_, err = tx.Exec(ctx, `UPDATE users SET name = $1 WHERE id = $2`, u.Name, u.UserID)
	} else {
		_, err = tx.Exec(ctx, `UPDATE users SET email = $1, name = $2 WHERE id = $3`, email, u.Name, u.UserID)
	}
	return wrap(err, "scim user")
}

// writeScimUser inserts or updates the record and rewrites its derived rows.
func writeScimUser(ctx context.Context, tx pgx.Tx, u *latchkey.ScimUser, insert bool) error {
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
			emails, doc, attrs, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
			u.WorkspaceID, u.UserID, u.UserName, strings.ToLower(u.UserName), ext, emails, doc, attrs, u.Created, u.Updated, u.Version)
	} else {
		_, err = tx.Exec(ctx, `UPDATE scim_users SET user_name = $1, user_name_lower = $2, external_id = $3,
			emails = $4, doc = $5, attrs = $6, updated_at = $7, version = $8 WHERE workspace_id = $9 AND user_id = $10`,
			u.UserName, strings.ToLower(u.UserName), ext, emails, doc, attrs, u.Updated, u.Version, u.WorkspaceID, u.UserID)
		if err == nil {
			_, err = tx.Exec(ctx, `DELETE FROM scim_emails WHERE workspace_id = $1 AND user_id = $2`, u.WorkspaceID, u.UserID)
		}
		if err == nil {
			_, err = tx.Exec(ctx, `DELETE FROM scim_user_extensions WHERE workspace_id = $1 AND user_id = $2`, u.WorkspaceID, u.UserID)
		}
	}
	switch {
	case isUnique(err, "scim_users_user_name"):
		return uniqueness("a user with the userName %q already exists in this workspace", u.UserName)
	case isUnique(err, ""):
		return uniqueness("this user is already provisioned in this workspace")
	case err != nil:
		return wrap(err, "write scim user")
	}
	for i, e := range u.Emails {
		if _, err := tx.Exec(ctx, `INSERT INTO scim_emails (workspace_id, user_id, position, value_lower, type_lower, is_primary)
			VALUES ($1, $2, $3, $4, $5, $6)`, u.WorkspaceID, u.UserID, i, strings.ToLower(e.Value), strings.ToLower(e.Type), e.Primary); err != nil {
			return wrap(err, "write scim emails")
		}
	}
	for _, a := range u.ExtensionAttrs() {
		if _, err := tx.Exec(ctx, `INSERT INTO scim_user_extensions (workspace_id, user_id, urn, attr, type, multi_valued)
			VALUES ($1, $2, $3, $4, $5, $6)`, u.WorkspaceID, u.UserID, a.URN, a.Name, a.Type, a.MultiValued); err != nil {
			return wrap(err, "write scim extensions")
		}
	}
	return nil
}

func uniqueness(format string, args ...any) error {
	return latchkey.Errorf(latchkey.ECONFLICT, format, args...).WithDetail("scim_type", "uniqueness")
}

func insertEvents(ctx context.Context, tx pgx.Tx, workspaceID string, evs []latchkey.Event) error {
	for i := range evs {
		if evs[i].WorkspaceID == "" {
			evs[i].WorkspaceID = workspaceID
		}
		if err := insertEvent(ctx, tx, &evs[i]); err != nil {
			return err
		}
	}
	return nil
}

// ScimExtensionAttrs lists the custom extension attributes stored in a workspace.
func (db *DB) ScimExtensionAttrs(ctx context.Context, workspaceID string) ([]latchkey.ScimExtensionAttr, error) {
	rows, err := db.pool.Query(ctx, `SELECT urn, attr, MIN(type), BOOL_OR(multi_valued) FROM scim_user_extensions
		WHERE workspace_id = $1 GROUP BY urn, attr ORDER BY urn, attr`, workspaceID)
	if err != nil {
		return nil, wrap(err, "scim extensions")
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (latchkey.ScimExtensionAttr, error) {
		var a latchkey.ScimExtensionAttr
		err := r.Scan(&a.URN, &a.Name, &a.Type, &a.MultiValued)
		return a, err
	})
	return out, wrap(err, "scim extensions")
}
