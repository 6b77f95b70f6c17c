package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlfilter"
)

const scimGroupSelect = `SELECT g.workspace_id, g.id, g.display_name, COALESCE(g.external_id, ''), g.doc,
	g.created_at, g.updated_at, g.version FROM scim_groups g `

func scanScimGroup(row interface{ Scan(...any) error }) (*latchkey.ScimGroup, error) {
	var g latchkey.ScimGroup
	var doc string
	var created, updated int64
	if err := row.Scan(&g.WorkspaceID, &g.ID, &g.DisplayName, &g.ExternalID, &doc, &created, &updated, &g.Version); err != nil {
		return nil, err
	}
	if err := unmarshal(doc, &g.Doc); err != nil {
		return nil, err
	}
	g.Created, g.Updated = fromMicros(created), fromMicros(updated)
	g.Members = []latchkey.ScimMember{}
	return &g, nil
}

type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// loadMembers fills in the members of groups, each with its userName.
func loadMembers(ctx context.Context, q querier, groups []*latchkey.ScimGroup) error {
	if len(groups) == 0 {
		return nil
	}
	byID := map[string]*latchkey.ScimGroup{}
	args := []any{}
	for _, g := range groups {
		byID[g.ID] = g
		args = append(args, g.ID)
	}
	rows, err := q.QueryContext(ctx, `SELECT gm.group_id, gm.user_id, s.user_name FROM scim_group_members gm
		JOIN scim_users s ON s.workspace_id = gm.workspace_id AND s.user_id = gm.user_id
		WHERE gm.group_id IN (?`+strings.Repeat(", ?", len(args)-1)+`) ORDER BY gm.group_id, gm.user_id`, args...)
	if err != nil {
		return fmt.Errorf("sqlite: scim group members: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var gid string
		var m latchkey.ScimMember
		if err := rows.Scan(&gid, &m.Value, &m.Display); err != nil {
			return fmt.Errorf("sqlite: scim group members: %w", err)
		}
		byID[gid].Members = append(byID[gid].Members, m)
	}
	return rows.Err()
}

// ScimGroup returns one group with its members; ENOTFOUND if none.
func (db *DB) ScimGroup(ctx context.Context, workspaceID, id string) (*latchkey.ScimGroup, error) {
	g, err := scanScimGroup(db.read.QueryRowContext(ctx, scimGroupSelect+`WHERE g.workspace_id = ? AND g.id = ?`, workspaceID, id))
	if err != nil {
		return nil, notFound(err, "group")
	}
	return g, loadMembers(ctx, db.read, []*latchkey.ScimGroup{g})
}

// ScimGroups returns a page of the groups matching q, in id order, and how many match.
func (db *DB) ScimGroups(ctx context.Context, q latchkey.ScimQuery) ([]*latchkey.ScimGroup, int, error) {
	cond, args, err := sqlfilter.Groups(scimDialect{}, q)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM scim_groups g WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("sqlite: scim groups: %w", err)
	}
	list := []*latchkey.ScimGroup{}
	if q.Limit <= 0 || q.Offset >= total {
		return list, total, nil
	}
	rows, err := db.read.QueryContext(ctx, scimGroupSelect+`WHERE `+cond+` ORDER BY g.id LIMIT ? OFFSET ?`, append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, fmt.Errorf("sqlite: scim groups: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		g, err := scanScimGroup(rows)
		if err != nil {
			return nil, 0, fmt.Errorf("sqlite: scim groups: %w", err)
		}
		list = append(list, g)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, fmt.Errorf("sqlite: scim groups: %w", err)
	}
	if !q.WithoutMembers {
		if err := loadMembers(ctx, db.read, list); err != nil {
			return nil, 0, err
		}
	}
	return list, total, nil
}

// CreateScimGroup stores a group and its members; see latchkey.ScimStore.
func (db *DB) CreateScimGroup(ctx context.Context, g *latchkey.ScimGroup, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		g.Version = 1
		if err := writeScimGroup(ctx, tx, g, true); err != nil {
			return err
		}
		if err := addGroupMembers(ctx, tx, g, memberIDs(g.Members)); err != nil {
			return err
		}
		return insertEvents(ctx, tx, g.WorkspaceID, []latchkey.Event{ev})
	})
}

// UpdateScimGroup applies fn to a group; see latchkey.ScimStore.
func (db *DB) UpdateScimGroup(ctx context.Context, workspaceID, id string, fn func(*latchkey.ScimGroup) (*latchkey.Event, error)) (*latchkey.ScimGroup, error) {
	var out *latchkey.ScimGroup
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		load := func() (*latchkey.ScimGroup, error) {
			g, err := scanScimGroup(tx.QueryRowContext(ctx, scimGroupSelect+`WHERE g.workspace_id = ? AND g.id = ?`, workspaceID, id))
			if err != nil {
				return nil, notFound(err, "group")
			}
			return g, loadMembers(ctx, tx, []*latchkey.ScimGroup{g})
		}
		old, err := load()
		if err != nil {
			return err
		}
		g, err := load()
		if err != nil {
			return err
		}
		ev, err := fn(g)
		if err != nil || ev == nil {
			out = old
			return err
		}
		g.WorkspaceID, g.ID, g.Created, g.Version = workspaceID, id, old.Created, old.Version+1
		if err := writeScimGroup(ctx, tx, g, false); err != nil {
			return err
		}
		was, now := memberSet(old.Members), memberSet(g.Members)
		var gone, added []string
		for uid := range was {
			if !now[uid] {
				gone = append(gone, uid)
			}
		}
		for _, uid := range memberIDs(g.Members) {
			if !was[uid] {
				added = append(added, uid)
			}
		}
		for _, uid := range gone {
			if _, err := tx.ExecContext(ctx, `DELETE FROM scim_group_members WHERE group_id = ? AND user_id = ?`, id, uid); err != nil {
				return fmt.Errorf("sqlite: scim group members: %w", err)
			}
		}
		if err := addGroupMembers(ctx, tx, g, added); err != nil {
			return err
		}
		if err := insertEvents(ctx, tx, workspaceID, []latchkey.Event{*ev}); err != nil {
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

// DeleteScimGroup removes a group; ENOTFOUND if none.
func (db *DB) DeleteScimGroup(ctx context.Context, workspaceID, id string, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM scim_groups WHERE workspace_id = ? AND id = ?`, workspaceID, id)
		if err != nil {
			return fmt.Errorf("sqlite: delete scim group: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "group not found")
		}
		return insertEvents(ctx, tx, workspaceID, []latchkey.Event{ev})
	})
}

func writeScimGroup(ctx context.Context, tx *sql.Tx, g *latchkey.ScimGroup, insert bool) error {
	doc, err := marshal(g.Doc, "{}")
	if err != nil {
		return err
	}
	ext := sql.NullString{String: g.ExternalID, Valid: g.ExternalID != ""}
	if insert {
		_, err = tx.ExecContext(ctx, `INSERT INTO scim_groups (id, workspace_id, display_name, display_name_lower, external_id,
			doc, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			g.ID, g.WorkspaceID, g.DisplayName, strings.ToLower(g.DisplayName), ext, doc, micros(g.Created), micros(g.Updated), g.Version)
	} else {
		_, err = tx.ExecContext(ctx, `UPDATE scim_groups SET display_name = ?, display_name_lower = ?, external_id = ?, doc = ?,
			updated_at = ?, version = ? WHERE workspace_id = ? AND id = ?`,
			g.DisplayName, strings.ToLower(g.DisplayName), ext, doc, micros(g.Updated), g.Version, g.WorkspaceID, g.ID)
	}
	switch {
	case isUnique(err, "display_name_lower"):
		return uniqueness("a group named %q already exists in this workspace", g.DisplayName)
	case isUnique(err, ""):
		return uniqueness("group %s already exists", g.ID)
	case isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	case err != nil:
		return fmt.Errorf("sqlite: write scim group: %w", err)
	}
	return nil
}

// addGroupMembers inserts members, refusing ids that are not SCIM users of
// the group's workspace.
func addGroupMembers(ctx context.Context, tx *sql.Tx, g *latchkey.ScimGroup, ids []string) error {
	var unknown []string
	for _, uid := range ids {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM scim_users WHERE workspace_id = ? AND user_id = ?`, g.WorkspaceID, uid).Scan(&n); err != nil {
			return fmt.Errorf("sqlite: scim group members: %w", err)
		}
		if n == 0 {
			unknown = append(unknown, uid)
		}
	}
	if len(unknown) > 0 {
		return unknownMembers(unknown)
	}
	for _, uid := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO scim_group_members (group_id, workspace_id, user_id) VALUES (?, ?, ?)
			ON CONFLICT DO NOTHING`, g.ID, g.WorkspaceID, uid); err != nil {
			return fmt.Errorf("sqlite: scim group members: %w", err)
		}
	}
	return nil
}

func unknownMembers(ids []string) error {
	return latchkey.Errorf(latchkey.EINVALID, "members are not users of this workspace: %s", strings.Join(ids, ", ")).
		WithDetail("scim_type", "invalidValue").WithDetail("members", ids)
}

func memberIDs(ms []latchkey.ScimMember) []string {
	seen := map[string]bool{}
	var out []string
	for _, m := range ms {
		if !seen[m.Value] {
			seen[m.Value] = true
			out = append(out, m.Value)
		}
	}
	return out
}

func memberSet(ms []latchkey.ScimMember) map[string]bool {
	s := map[string]bool{}
	for _, m := range ms {
		s[m.Value] = true
	}
	return s
}
