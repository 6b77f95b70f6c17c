package sqlstore

import (
	"context"
	"slices"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlfilter"
)

const scimGroupSelect = `SELECT g.workspace_id, g.id, g.display_name, COALESCE(g.external_id, ''), g.doc,
	g.created_at, g.updated_at, g.version FROM scim_groups g `

func scanScimGroup(row Row) (*latchkey.ScimGroup, error) {
	var g latchkey.ScimGroup
	var doc []byte
	if err := row.Scan(&g.WorkspaceID, &g.ID, &g.DisplayName, &g.ExternalID, &doc, &g.Created, &g.Updated, &g.Version); err != nil {
		return nil, err
	}
	if err := unmarshal(doc, &g.Doc); err != nil {
		return nil, err
	}
	g.Members = []latchkey.ScimMember{}
	return &g, nil
}

// loadMembers fills in the members of groups, each with its userName.
func (s *Store) loadMembers(ctx context.Context, q Conn, groups []*latchkey.ScimGroup) error {
	byID := map[string]*latchkey.ScimGroup{}
	ids := []string{}
	for _, g := range groups {
		byID[g.ID] = g
		ids = append(ids, g.ID)
	}
	for part := range slices.Chunk(ids, maxInList) {
		rows, err := q.Query(ctx, `SELECT gm.group_id, gm.user_id, s.user_name FROM scim_group_members gm
			JOIN scim_users s ON s.workspace_id = gm.workspace_id AND s.user_id = gm.user_id
			WHERE gm.group_id IN (`+params(len(part))+`) ORDER BY gm.group_id, gm.user_id`, anys(part)...)
		_, err = collect(rows, err, func(r Row) (bool, error) {
			var gid string
			var m latchkey.ScimMember
			if err := r.Scan(&gid, &m.Value, &m.Display); err != nil {
				return false, err
			}
			byID[gid].Members = append(byID[gid].Members, m)
			return true, nil
		})
		if err != nil {
			return s.wrap(err, "scim group members")
		}
	}
	return nil
}

// ScimGroup returns one group with its members; ENOTFOUND if none.
func (s *Store) ScimGroup(ctx context.Context, workspaceID, id string) (*latchkey.ScimGroup, error) {
	g, err := scanScimGroup(s.read.QueryRow(ctx, scimGroupSelect+`WHERE g.workspace_id = ? AND g.id = ?`, workspaceID, id))
	if err != nil {
		return nil, s.notFound(err, "group")
	}
	return g, s.loadMembers(ctx, s.read, []*latchkey.ScimGroup{g})
}

// ScimGroups returns a page of the groups matching q, in id order, and how many match.
func (s *Store) ScimGroups(ctx context.Context, q latchkey.ScimQuery) ([]*latchkey.ScimGroup, int, error) {
	cond, args, err := sqlfilter.Groups(s.db.ScimFilter(), q)
	if err != nil {
		return nil, 0, err
	}
	var total int
	if err := s.read.QueryRow(ctx, `SELECT COUNT(*) FROM scim_groups g WHERE `+cond, args...).Scan(&total); err != nil {
		return nil, 0, s.wrap(err, "scim groups")
	}
	list := []*latchkey.ScimGroup{}
	if q.Limit <= 0 || q.Offset >= total {
		return list, total, nil
	}
	rows, err := s.read.Query(ctx, scimGroupSelect+`WHERE `+cond+` ORDER BY g.id LIMIT ? OFFSET ?`,
		append(args, q.Limit, q.Offset)...)
	list, err = collect(rows, err, scanScimGroup)
	if err != nil {
		return nil, 0, s.wrap(err, "scim groups")
	}
	if !q.WithoutMembers {
		if err := s.loadMembers(ctx, s.read, list); err != nil {
			return nil, 0, err
		}
	}
	return list, total, nil
}

// CreateScimGroup stores a group and its members; see latchkey.ScimStore.
func (s *Store) CreateScimGroup(ctx context.Context, g *latchkey.ScimGroup, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		g.Version = 1
		if err := s.writeScimGroup(ctx, tx, g, true); err != nil {
			return err
		}
		if err := s.addGroupMembers(ctx, tx, g, memberIDs(g.Members)); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, g.WorkspaceID, []latchkey.Event{ev})
	})
}

// UpdateScimGroup applies fn to a group; see latchkey.ScimStore. The
// group's row is locked first, so concurrent membership changes queue.
func (s *Store) UpdateScimGroup(ctx context.Context, workspaceID, id string, fn func(*latchkey.ScimGroup) (*latchkey.Event, error)) (*latchkey.ScimGroup, error) {
	var out *latchkey.ScimGroup
	err := s.inTx(ctx, func(tx Conn) error {
		load := func(lock string) (*latchkey.ScimGroup, error) {
			g, err := scanScimGroup(tx.QueryRow(ctx, scimGroupSelect+`WHERE g.workspace_id = ? AND g.id = ?`+lock, workspaceID, id))
			if err != nil {
				return nil, s.notFound(err, "group")
			}
			return g, s.loadMembers(ctx, tx, []*latchkey.ScimGroup{g})
		}
		old, err := load(s.lock("FOR UPDATE"))
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
		if err := s.writeScimGroup(ctx, tx, g, false); err != nil {
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
		for part := range slices.Chunk(gone, maxInList) {
			if _, err := tx.Exec(ctx, `DELETE FROM scim_group_members WHERE group_id = ? AND user_id IN (`+params(len(part))+`)`,
				append([]any{id}, anys(part)...)...); err != nil {
				return s.wrap(err, "scim group members")
			}
		}
		if err := s.addGroupMembers(ctx, tx, g, added); err != nil {
			return err
		}
		if err := s.insertEvents(ctx, tx, workspaceID, []latchkey.Event{*ev}); err != nil {
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
func (s *Store) DeleteScimGroup(ctx context.Context, workspaceID, id string, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, `DELETE FROM scim_groups WHERE workspace_id = ? AND id = ?`, workspaceID, id)
		if err != nil {
			return s.notFound(err, "group")
		}
		if n == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "group not found")
		}
		return s.insertEvents(ctx, tx, workspaceID, []latchkey.Event{ev})
	})
}

func (s *Store) writeScimGroup(ctx context.Context, tx Conn, g *latchkey.ScimGroup, insert bool) error {
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
			doc, created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			g.ID, g.WorkspaceID, g.DisplayName, strings.ToLower(g.DisplayName), ext, doc, g.Created, g.Updated, g.Version)
	} else {
		_, err = tx.Exec(ctx, `UPDATE scim_groups SET display_name = ?, display_name_lower = ?, external_id = ?, doc = ?,
			updated_at = ?, version = ? WHERE workspace_id = ? AND id = ?`,
			g.DisplayName, strings.ToLower(g.DisplayName), ext, doc, g.Updated, g.Version, g.WorkspaceID, g.ID)
	}
	switch {
	case s.isUnique(err, ScimGroupDisplayName):
		return uniqueness("a group named %q already exists in this workspace", g.DisplayName)
	case s.isUnique(err, AnyConstraint):
		return uniqueness("group %s already exists", g.ID)
	case s.isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	}
	return s.wrap(err, "write scim group")
}

// addGroupMembers inserts members, refusing ids that are not SCIM users of
// the group's workspace.
func (s *Store) addGroupMembers(ctx context.Context, tx Conn, g *latchkey.ScimGroup, ids []string) error {
	known := map[string]bool{}
	for part := range slices.Chunk(ids, maxInList) {
		rows, err := tx.Query(ctx, `SELECT user_id FROM scim_users WHERE workspace_id = ? AND user_id IN (`+params(len(part))+`)`,
			append([]any{g.WorkspaceID}, anys(part)...)...)
		_, err = collect(rows, err, func(r Row) (bool, error) {
			var id string
			err := r.Scan(&id)
			known[id] = true
			return true, err
		})
		if err != nil {
			return s.wrap(err, "scim group members")
		}
	}
	var unknown []string
	for _, id := range ids {
		if !known[id] {
			unknown = append(unknown, id)
		}
	}
	if len(unknown) > 0 {
		slices.Sort(unknown)
		return unknownMembers(unknown)
	}
	for part := range slices.Chunk(ids, maxInList/3) {
		args := make([]any, 0, 3*len(part))
		for _, id := range part {
			args = append(args, g.ID, g.WorkspaceID, id)
		}
		_, err := tx.Exec(ctx, `INSERT INTO scim_group_members (group_id, workspace_id, user_id) VALUES `+
			strings.TrimSuffix(strings.Repeat("(?, ?, ?), ", len(part)), ", ")+` ON CONFLICT DO NOTHING`, args...)
		if err != nil {
			return s.wrap(err, "scim group members")
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
