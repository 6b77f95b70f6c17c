package manage

import (
	"context"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/password"
)

// CreateOperator creates a platform operator account (from the CLI, which
// has the store in hand: there is no API for it).
func (s *Service) CreateOperator(ctx context.Context, email, pw string) (*latchkey.User, error) {
	norm, err := latchkey.NormalizeEmail(email)
	if err != nil {
		return nil, err
	}
	if err := password.Check(pw); err != nil {
		return nil, err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return nil, err
	}
	u := &latchkey.User{ID: s.ids.New(id.User), Email: norm, PasswordHash: hash, Operator: true, CreatedAt: s.Now()}
	ev := s.event(latchkey.Principal{}, "", "operator.created", u.ID, map[string]any{"email": norm})
	ev.Actor = latchkey.Actor{Type: latchkey.ActorSystem, Label: "latchkey operator create"}
	if err := s.store.CreateUser(ctx, u, &ev); err != nil {
		if latchkey.ErrorCode(err) == latchkey.ECONFLICT {
			return nil, latchkey.Errorf(latchkey.ECONFLICT, "an account with the email %s exists already", norm)
		}
		return nil, err
	}
	return u, nil
}

// Workspaces lists every workspace, for operators.
func (s *Service) Workspaces(ctx context.Context, p latchkey.Principal) ([]*latchkey.Workspace, error) {
	if err := latchkey.Authorize(p, latchkey.ActWorkspacesList, latchkey.Target{}); err != nil {
		return nil, err
	}
	return s.store.Workspaces(ctx)
}

// NewWorkspace is an operator's request for a workspace and its owner.
type NewWorkspace struct {
	Name  string `json:"name"`
	Owner struct {
		Email    string `json:"email"`
		Name     string `json:"name"`
		Password string `json:"password"`
	} `json:"owner"`
}

// CreateWorkspace creates a workspace for an operator, with its owner
// invited by email exactly as AddMember invites: a new identity that
// belongs to this workspace alone, and an invitation token (shown once)
// that the person accepts with a new password or, if the address has an
// account, signed in to it. An existing account is never linked, nor its
// password touched, by creating a workspace.
func (s *Service) CreateWorkspace(ctx context.Context, p latchkey.Principal, in NewWorkspace) (*latchkey.Workspace, *latchkey.Member, string, error) {
	if err := latchkey.Authorize(p, latchkey.ActWorkspacesCreate, latchkey.Target{}); err != nil {
		return nil, nil, "", err
	}
	name := strings.TrimSpace(in.Name)
	if err := latchkey.ValidateWorkspaceName(name); err != nil {
		return nil, nil, "", err
	}
	if in.Owner.Password != "" {
		return nil, nil, "", latchkey.Errorf(latchkey.EINVALID, "a password is chosen by its holder: the owner sets it through the invitation link").WithDetail("field", "owner.password")
	}
	email, err := latchkey.NormalizeEmail(in.Owner.Email)
	if err != nil {
		return nil, nil, "", err.(*latchkey.Error).WithDetail("field", "owner.email")
	}
	ownerName, err := memberName(in.Owner.Name)
	if err != nil {
		return nil, nil, "", err.(*latchkey.Error).WithDetail("field", "owner.name")
	}
	now := s.Now()
	u := &latchkey.User{ID: s.ids.New(id.User), Email: email, Name: ownerName, CreatedAt: now}
	w := &latchkey.Workspace{ID: s.ids.New(id.Workspace), Name: name, Settings: latchkey.DefaultSettings(), CreatedAt: now}
	ev := s.event(p, w.ID, latchkey.EventWorkspaceCreated, w.ID, map[string]any{"name": name, "owner": email})
	if err := s.store.CreateWorkspace(ctx, w, u, ev); err != nil {
		return nil, nil, "", err
	}
	invite, inv, err := s.newInvite(u.ID, w.ID)
	if err != nil {
		return nil, nil, "", err
	}
	if err := s.store.CreateInvite(ctx, inv); err != nil {
		return nil, nil, "", err
	}
	m, err := s.store.Member(ctx, w.ID, u.ID)
	if err != nil {
		return nil, nil, "", err
	}
	return w, m, invite, nil
}
