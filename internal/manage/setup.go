package manage

import (
	"context"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/password"
)

// Initial is the result of initialising an empty store.
type Initial struct {
	Workspace *latchkey.Workspace
	Owner     *latchkey.User
	// Password is set when Init generated it: shown once, never stored.
	Password string
}

// Init creates the first workspace and its owner on an empty store. An
// empty password is replaced by a generated one-time password. It refuses
// (ECONFLICT) a store that is already initialised.
func (s *Service) Init(ctx context.Context, workspace, email, pw string) (*Initial, error) {
	done, err := s.store.Initialized(ctx)
	if err != nil {
		return nil, err
	}
	if done {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "the store is already initialised")
	}
	workspace = strings.TrimSpace(workspace)
	if err := latchkey.ValidateWorkspaceName(workspace); err != nil {
		return nil, err
	}
	norm, err := latchkey.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	out := &Initial{}
	if pw == "" {
		pw = randomPassword()
		out.Password = pw
	} else if err := password.Check(pw); err != nil {
		return nil, err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return nil, err
	}
	now := s.Now()
	out.Owner = &latchkey.User{ID: s.ids.New(id.User), Email: norm, PasswordHash: hash, CreatedAt: now}
	out.Workspace = &latchkey.Workspace{ID: s.ids.New(id.Workspace), Name: workspace, Settings: latchkey.DefaultSettings(), CreatedAt: now}
	p := latchkey.Principal{Kind: latchkey.PrincipalUser, UserID: out.Owner.ID, Email: norm}
	ev := s.event(p, out.Workspace.ID, latchkey.EventWorkspaceCreated, out.Workspace.ID, map[string]any{"name": workspace, "owner": norm})
	if err := s.store.CreateWorkspace(ctx, out.Workspace, out.Owner, ev); err != nil {
		return nil, err
	}
	return out, nil
}
