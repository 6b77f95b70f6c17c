package api

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey"
)

// scimRequestService is what the SCIM key request handlers use.
type scimRequestService interface {
	RequestScimKey(ctx context.Context, p latchkey.Principal, ws, contactEmail, integration string) (*latchkey.ScimKeyRequest, error)
	ScimKeyRequests(ctx context.Context, p latchkey.Principal, ws string) ([]*latchkey.ScimKeyRequest, error)
	ApproveScimKeyRequest(ctx context.Context, p latchkey.Principal, requestID string) (*latchkey.ScimKeyRequest, error)
	PickUpScimKey(ctx context.Context, p latchkey.Principal, ws, requestID string) (*latchkey.Key, string, error)
}

// SCIM key requests, where a workspace's scim_key_issuance is operator: the
// workspace's admins ask, an operator approves (and never sees a secret),
// and the admins pick the key up once.

type scimKeyRequest struct {
	ContactEmail string `json:"contact_email"`
	Integration  string `json:"integration"`
}

func (a *API) requestScimKey(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	var in scimKeyRequest
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	req, err := a.svc.RequestScimKey(r.Context(), p, ws, in.ContactEmail, in.Integration)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]*latchkey.ScimKeyRequest{"request": req})
}

func (a *API) listScimKeyRequests(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	reqs, err := a.svc.ScimKeyRequests(r.Context(), p, ws)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if reqs == nil {
		reqs = []*latchkey.ScimKeyRequest{}
	}
	writeJSON(w, http.StatusOK, list[*latchkey.ScimKeyRequest]{Data: reqs})
}

func (a *API) approveScimKeyRequest(w http.ResponseWriter, r *http.Request, p latchkey.Principal, _ string) {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		a.fail(w, r, err)
		return
	}
	req, err := a.svc.ApproveScimKeyRequest(r.Context(), p, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]*latchkey.ScimKeyRequest{"request": req})
}

func (a *API) pickUpScimKey(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		a.fail(w, r, err)
		return
	}
	k, secret, err := a.svc.PickUpScimKey(r.Context(), p, ws, r.PathValue("id"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.keyAnswer(w, r, http.StatusCreated, ws, k, secret)
}
