package postgres

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlfilter"
)

const scimGroupSelect = `SELECT g.workspace_id, g.id, g.display_name, COALESCE(g.external_id, ''), g.doc,
	g.created_at, g.updated_at, g.version FROM scim_groups g `

func scanScimGroup(row pgx.Row) (*latchkey.ScimGroup, error) {
	var g latchkey.ScimGroup
	var doc []byte
	var created, updated time.Time
	if err := row.Scan(&g.WorkspaceID, &g.ID, &g.DisplayName, &g.ExternalID, &doc, &created, &updated, &g.Version); err != nil {
		return nil, err
	}
	if err := unmarshal(doc, &g.Doc); err != nil {
		return nil, err
	}
	g.Created, g.Updated = utc(created), utc(updated)
	g.Members = []latchkey.ScimMember{}
	return &g, nil
}

type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// loadMembers fills in the members of groups, each with its userName.
func loadMembers(ctx context.Context, q querier, groups []*latchkey.ScimGroup) error {
	if len(groups) == 0 {
		return nil
	}
	byID := map[string]*latchkey.ScimGroup{}
	ids := []string{}
	for _, g := range groups {
		byID[g.ID] = g
		ids = append(ids, g.ID)
	}
	rows, err := q.Query(ctx, `SELECT gm.group_id, gm.user_id, s.user_name FROM scim_group_members gm
		JOIN scim_users s ON s.workspace_id = gm.workspace_id AND s.user_id = gm.user_id
		WHERE gm.group_id = ANY($1) ORDER BY gm.group_id, gm.user_id`, ids)
	if err != nil {
		return wrap(err, "scim group members")
	}
	defer rows.Close()
	for rows.Next() {
		var gid string
		var m latchkey.ScimMember
		if err := rows.Scan(&gid, &m.Value, &m.Display); err != nil {
			return wrap(err, "scim group members")
		}
		byID[gid].Members = append(byID[gid].Members, m)
	}
	return wrap(rows.Err(), "scim group members")
}

// ScimGroup returns one group with its members; ENOTFOUND if none.
func (db *DB) ScimGroup(ctx context.Context, workspaceID, id string) (*latchkey.ScimGroup, error) {
	g, err := scanScimGroup(db.pool.QueryRow(ctx, scimGroupSelect+`WHERE g.workspace_id = $1 AND g.id = $2`, workspaceID, id))
	if err != nil {
		return nil, notFound(err, "group")
	}
	return g, loadMembers(ctx, db.pool, []*latchkey.ScimGroup{g})
}

// ScimGroups returns a page of the groups matching q, in id order, and how many match.
func (db *DB) ScimGroups(ctx context.Context, q latchkey.ScimQuery) ([]*latchkey.ScimGroup, int, error) {
	cond, args, err := sqlfilter.Groups(scimDialect{}, q)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := db.pool.QueryRow(ctx, `SELECT COUNT(*) FROM scim_groups g WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, wrap(err, "scim groups")
	}
	list := []*latchkey.ScimGroup{}
	if q.Limit <= 0 || q.Offset >= total {
		return list, total, nil
	}
	n := len(args)
	rows, err := db.pool.Query(ctx, scimGroupSelect+`WHERE `+cond+fmt.Sprintf(` ORDER BY g.id LIMIT $%d OFFSET $%d`, n+1, n+2),
		append(args, q.Limit, q.Offset)...)
	if err != nil {
		return nil, 0, wrap(err, "scim groups")
	}
	list, err = pgx.CollectRows(rows, func(r pgx.CollectableRow) (*latchkey.ScimGroup, error) { return scanScimGroup(r) })
	if err != nil {
		return nil, 0, wrap(err, "scim groups")
	}
	if !q.WithoutMembers {
		if err := loadMembers(ctx, db.pool, list); err != nil {
			return nil, 0, err
		}
	}
	return list, total, nil
}

// CreateScimGroup stores a group and its members; see latchkey.ScimStore.
func (db *DB) CreateScimGroup(ctx context.Context, g *latchkey.ScimGroup, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
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

// UpdateScimGroup applies fn to a group; see latchkey.ScimStore. The
// group's row is locked first, so concurrent membership changes queue.
func (db *DB) UpdateScimGroup(ctx context.Context, workspaceID, id string, fn func(*latchkey.ScimGroup) (*latchkey.Event, error)) (*latchkey.ScimGroup, error) {
	var out *latchkey.ScimGroup
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		load := func(lock string) (*latchkey.ScimGroup, error) {
			g, err := scanScimGroup(tx.QueryRow(ctx, scimGroupSelect+`WHERE g.workspace_id = $1 AND g.id = $2`+lock, workspaceID, id))
			if err != nil {
				return nil, notFound(err, "group")
			}
			return g, loadMembers(ctx, tx, []*latchkey.ScimGroup{g})
		}
		old, err := load(" FOR UPDATE")
		if err != nil {
			return err
		}
		g, err := load("")
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
		if len(gone) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM scim_group_members WHERE group_id = $1 AND user_id = ANY($2)`, id, gone); err != nil {
				return wrap(err, "scim group members")
			}
		}
		if err := addGroupMembers(ctx, tx, g, added); err != nil {
			return err
		}
		if err := insertEvents(ctx, tx, workspaceID, []latchkey.Event{*ev}); err != nil {
			return err
		}
		out, err = load("")
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteScimGroup removes a group; ENOTFOUND if none.
func (db *DB) DeleteScimGroup(ctx context.Context, workspaceID, id string, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM scim_groups WHERE workspace_id = $1 AND id = $2`, workspaceID, id)
		if err != nil {
			return notFound(err, "group")
		}
		if tag.RowsAffected() == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "group not found")
		}
		return insertEvents(ctx, tx, workspaceID, []latchkey.Event{ev})
	})
}

func writeScimGroup(ctx context.Context, tx pgx.Tx, g *latchkey.ScimGroup, insert bool) error {
	doc, err := marshal(g.Doc, "{}")
	if err != nil {
		return err
	}
	var ext *string
	if g.ExternalID != "" {
		ext = &g.ExternalID
	}
	if insert {
		_, err = tx.Exec(ctx, `INSERT INTO scim_groups (id, workspace_id, display_name, display_name_lower, external_id,
			doc, created_at, updated_at, version) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
			g.ID, g.WorkspaceID, g.DisplayName, strings.ToLower(g.DisplayName), ext, doc, g.Created, g.Updated, g.Version)
	} else {
		_, err = tx.Exec(ctx, `UPDATE scim_groups SET display_name = $1, display_name_lower = $2, external_id = $3, doc = $4,
			updated_at = $5, version = $6 WHERE workspace_id = $7 AND id = $8`,
			g.DisplayName, strings.ToLower(g.DisplayName), ext, doc, g.Updated, g.Version, g.WorkspaceID, g.ID)
	}
	switch {
	case isUnique(err, "scim_groups_display_name"):
		return uniqueness("a group named %q already exists in this workspace", g.DisplayName)
	case isUnique(err, ""):
		return uniqueness("group %s already exists", g.ID)
	case isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	}
	return wrap(err, "write scim group")
}

// addGroupMembers inserts members, refusing ids that are not SCIM users of
// the group's workspace.
func addGroupMembers(ctx context.Context, tx pgx.Tx, g *latchkey.ScimGroup, ids []string) error {
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT id FROM unnest($2::text[]) AS id
		WHERE NOT EXISTS (SELECT 1 FROM scim_users s WHERE s.workspace_id = $1 AND s.user_id = id) ORDER BY id`, g.WorkspaceID, ids)
	if err != nil {
		return wrap(err, "scim group members")
	}
	unknown, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return wrap(err, "scim group members")
	}
	if len(unknown) > 0 {
		return unknownMembers(unknown)
	}
	_, err = tx.Exec(ctx, `INSERT INTO scim_group_members (group_id, workspace_id, user_id)
		SELECT $1, $2, id FROM unnest($3::text[]) AS id ON CONFLICT DO NOTHING`, g.ID, g.WorkspaceID, ids)
	return wrap(err, "scim group members")
}

func unknownMembers(ids []string) error {
	return latchkey.Errorf(latchkey.EINVALID, "members are not users of this workspace: %s", strings.Join(ids, ", ")).
		WithDetail("scim_type", "invalidValue").WithDetail("members", ids)
}

func memberIDs(ms []latchkey.ScimMember) []string {
	seen := map[string]bool{}
	out := []string{}
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
