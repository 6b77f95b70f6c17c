package api

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// platformService is what the operators' workspace handlers use.
type platformService interface {
	Workspaces(ctx context.Context, p latchkey.Principal) ([]*latchkey.Workspace, error)
	CreateWorkspace(ctx context.Context, p latchkey.Principal, in manage.NewWorkspace) (*latchkey.Workspace, *latchkey.Member, string, error)
}

// platform resolves the caller as a principal outside any workspace, for
// the operators' endpoints.
func (a *API) platform(h workspaceHandler) http.HandlerFunc {
	return a.authed(func(w http.ResponseWriter, r *http.Request, c manage.Caller, _ string) {
		p, err := a.svc.Principal(r.Context(), c, "")
		if err != nil {
			a.fail(w, r, err)
			return
		}
		h(w, r, p, "")
	})
}

type workspaceCreated struct {
	Workspace   *latchkey.Workspace `json:"workspace"`
	Owner       *latchkey.Member    `json:"owner"`
	InviteToken string              `json:"invite_token,omitempty"`
	InviteURL   string              `json:"invite_url,omitempty"`
}

func (a *API) createWorkspace(w http.ResponseWriter, r *http.Request, p latchkey.Principal, _ string) {
	if p.Kind == latchkey.PrincipalPlatform {
		a.provisionWorkspace(w, r, p)
		return
	}
	var in manage.NewWorkspace
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	ws, owner, invite, err := a.svc.CreateWorkspace(r.Context(), p, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := workspaceCreated{Workspace: ws, Owner: owner}
	if invite != "" {
		out.InviteToken, out.InviteURL = invite, invitePath(invite)
	}
	writeJSON(w, http.StatusCreated, out)
}

func (a *API) listWorkspaces(w http.ResponseWriter, r *http.Request, p latchkey.Principal, _ string) {
	if p.Kind == latchkey.PrincipalPlatform {
		a.provisionedWorkspaces(w, r, p)
		return
	}
	wss, err := a.svc.Workspaces(r.Context(), p)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if wss == nil {
		wss = []*latchkey.Workspace{}
	}
	writeJSON(w, http.StatusOK, list[*latchkey.Workspace]{Data: wss})
}
