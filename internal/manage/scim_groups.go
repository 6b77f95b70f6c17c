package manage

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

// groupPrefix starts the ids of SCIM groups.
const groupPrefix = "grp"

// ScimGroups lists the workspace's groups matching q.
func (s *Service) ScimGroups(ctx context.Context, p latchkey.Principal, q latchkey.ScimQuery) ([]*latchkey.ScimGroup, int, error) {
	if err := authorizeScim(p); err != nil {
		return nil, 0, err
	}
	q.WorkspaceID = p.WorkspaceID
	return s.store.ScimGroups(ctx, q)
}

// ScimGroup returns one group of the workspace.
func (s *Service) ScimGroup(ctx context.Context, p latchkey.Principal, groupID string) (*latchkey.ScimGroup, error) {
	if err := authorizeScim(p); err != nil {
		return nil, err
	}
	if !id.Valid(groupPrefix, groupID) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "group not found")
	}
	return s.store.ScimGroup(ctx, p.WorkspaceID, groupID)
}

// CreateScimGroup stores a new group; its members must be SCIM users of
// the workspace.
func (s *Service) CreateScimGroup(ctx context.Context, p latchkey.Principal, g *latchkey.ScimGroup) (*latchkey.ScimGroup, error) {
	if err := authorizeScim(p); err != nil {
		return nil, err
	}
	now := s.Now()
	g.WorkspaceID, g.ID, g.Created, g.Updated = p.WorkspaceID, s.ids.New(groupPrefix), now, now
	ev := s.event(p, g.WorkspaceID, latchkey.EventScimGroupCreated, g.ID,
		map[string]any{"display_name": g.DisplayName, "members": len(g.Members)})
	if err := s.store.CreateScimGroup(ctx, g, ev); err != nil {
		return nil, err
	}
	return s.store.ScimGroup(ctx, g.WorkspaceID, g.ID)
}

// UpdateScimGroup applies fn (a PATCH or a PUT) to a group in one
// transaction; if fn fails nothing changes.
func (s *Service) UpdateScimGroup(ctx context.Context, p latchkey.Principal, groupID string, fn func(*latchkey.ScimGroup) error) (*latchkey.ScimGroup, error) {
	if _, err := s.ScimGroup(ctx, p, groupID); err != nil {
		return nil, err
	}
	return s.store.UpdateScimGroup(ctx, p.WorkspaceID, groupID, func(g *latchkey.ScimGroup) (*latchkey.Event, error) {
		before := groupState(g)
		had := len(g.Members)
		if err := fn(g); err != nil {
			return nil, err
		}
		if groupState(g) == before {
			return nil, nil
		}
		g.Updated = s.Now()
		ev := s.event(p, p.WorkspaceID, latchkey.EventScimGroupUpdated, groupID,
			map[string]any{"display_name": g.DisplayName, "members_before": had, "members": len(g.Members)})
		return &ev, nil
	})
}

// DeleteScimGroup removes a group; its members stay members of the workspace.
func (s *Service) DeleteScimGroup(ctx context.Context, p latchkey.Principal, groupID string) error {
	g, err := s.ScimGroup(ctx, p, groupID)
	if err != nil {
		return err
	}
	ev := s.event(p, p.WorkspaceID, latchkey.EventScimGroupDeleted, groupID, map[string]any{"display_name": g.DisplayName})
	return s.store.DeleteScimGroup(ctx, p.WorkspaceID, groupID, ev)
}

func groupState(g *latchkey.ScimGroup) string {
	ids := make([]string, 0, len(g.Members))
	for _, m := range g.Members {
		ids = append(ids, m.Value)
	}
	slices.Sort(ids)
	b, _ := json.Marshal([]any{g.DisplayName, g.ExternalID, slices.Compact(ids), g.Doc})
	return string(b)
}
