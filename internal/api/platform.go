package api

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// platformKeyService is what the platform key handlers use: operators
// manage the keys, the keys provision workspaces and people.
type platformKeyService interface {
	IsPlatformSecret(tok string) bool
	PlatformKeyOf(ctx context.Context, tok string) (*latchkey.PlatformKey, error)
	CreatePlatformKey(ctx context.Context, p latchkey.Principal, in manage.NewPlatformKey) (*latchkey.PlatformKey, string, error)
	PlatformKeys(ctx context.Context, p latchkey.Principal) ([]*latchkey.PlatformKey, error)
	RevokePlatformKey(ctx context.Context, p latchkey.Principal, keyID string) (*latchkey.PlatformKey, error)
	ProvisionWorkspace(ctx context.Context, p latchkey.Principal, in manage.NewProvisionedWorkspace) (*latchkey.ProvisionedWorkspace, bool, error)
	ProvisionedWorkspaces(ctx context.Context, p latchkey.Principal, externalID string) ([]*latchkey.ProvisionedWorkspace, error)
	SyncPortalMember(ctx context.Context, p latchkey.Principal, ws string, in latchkey.PortalUser) (*latchkey.Member, error)
	RemovePortalMember(ctx context.Context, p latchkey.Principal, ws, externalID string) error
}

// platformCaller authenticates a platform key's secret.
func (a *API) platformCaller(r *http.Request, c manage.Caller, tok string) (manage.Caller, error) {
	k, err := a.svc.PlatformKeyOf(r.Context(), tok)
	if err != nil {
		return c, err
	}
	c.Platform = k
	return c, nil
}

type platformKeyCreated struct {
	Key    *latchkey.PlatformKey `json:"key"`
	Secret string                `json:"secret"`
}

func (a *API) createPlatformKey(w http.ResponseWriter, r *http.Request, p latchkey.Principal, _ string) {
	var in manage.NewPlatformKey
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	k, secret, err := a.svc.CreatePlatformKey(r.Context(), p, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, platformKeyCreated{Key: k, Secret: secret})
}

func (a *API) listPlatformKeys(w http.ResponseWriter, r *http.Request, p latchkey.Principal, _ string) {
	ks, err := a.svc.PlatformKeys(r.Context(), p)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list[*latchkey.PlatformKey]{Data: ks})
}

func (a *API) revokePlatformKey(w http.ResponseWriter, r *http.Request, p latchkey.Principal, _ string) {
	k, err := a.svc.RevokePlatformKey(r.Context(), p, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, k)
}

type workspaceProvisioned struct {
	Workspace *latchkey.ProvisionedWorkspace `json:"workspace"`
	Created   bool                           `json:"created"`
}

// provisionWorkspace answers POST /v1/workspaces for a platform key: 201
// when it made the workspace, 200 with the existing one for an external id
// it already has.
func (a *API) provisionWorkspace(w http.ResponseWriter, r *http.Request, p latchkey.Principal) {
	var in manage.NewProvisionedWorkspace
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	ws, created, err := a.svc.ProvisionWorkspace(r.Context(), p, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	writeJSON(w, status, workspaceProvisioned{Workspace: ws, Created: created})
}

// provisionedWorkspaces answers GET /v1/workspaces for a platform key: its
// product's workspaces, or the one of ?external_id=.
func (a *API) provisionedWorkspaces(w http.ResponseWriter, r *http.Request, p latchkey.Principal) {
	wss, err := a.svc.ProvisionedWorkspaces(r.Context(), p, r.URL.Query().Get("external_id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, list[*latchkey.ProvisionedWorkspace]{Data: wss})
}

// portalMemberSync is the body of PUT .../members/by-external-id/{id}; the
// external id is the path's.
type portalMemberSync struct {
	Email string        `json:"email"`
	Name  string        `json:"name"`
	Role  latchkey.Role `json:"role"`
}

func (a *API) syncPortalMember(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	var in portalMemberSync
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	m, err := a.svc.SyncPortalMember(r.Context(), p, ws, latchkey.PortalUser{ExternalID: r.PathValue("id"), Email: in.Email, Name: in.Name, Role: in.Role})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, m)
}

func (a *API) removePortalMember(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	if err := a.svc.RemovePortalMember(r.Context(), p, ws, r.PathValue("id")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
