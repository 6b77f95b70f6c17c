package manage

import (
	"context"
	"fmt"
	"net/mail"
	"slices"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/token"
)

// Integrations are the identity providers a SCIM key can be issued for.
var Integrations = []string{"okta", "entra", "generic"}

func validateScimRequest(contactEmail, integration string) error {
	if a, err := mail.ParseAddress(contactEmail); err != nil || a.Address != contactEmail {
		return latchkey.Errorf(latchkey.EINVALID, "contact_email must be an email address").WithDetail("field", "contact_email")
	}
	if !slices.Contains(Integrations, integration) {
		return latchkey.Errorf(latchkey.EINVALID, "integration must be okta, entra or generic").WithDetail("field", "integration")
	}
	return nil
}

// RequestScimKey records an admin's request that the vendor's support team
// issue a SCIM key, where the workspace reserves that to operators.
func (s *Service) RequestScimKey(ctx context.Context, p latchkey.Principal, ws, contactEmail, integration string) (*latchkey.ScimKeyRequest, error) {
	w, err := s.workspace(ctx, p, ws, latchkey.ActScimKeyRequest)
	if err != nil {
		return nil, err
	}
	if w.Settings.ScimKeyIssuance != latchkey.IssuanceOperator {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "admins of this workspace create SCIM keys themselves: create a key of type scim")
	}
	if err := validateScimRequest(contactEmail, integration); err != nil {
		return nil, err
	}
	r := &latchkey.ScimKeyRequest{
		ID: s.ids.New("skr"), WorkspaceID: ws, ContactEmail: contactEmail, Integration: integration,
		RequestedBy: p.UserID, CreatedAt: s.Now(),
	}
	ev := s.event(p, ws, latchkey.EventScimKeyRequested, r.ID, map[string]any{"contact_email": contactEmail, "integration": integration})
	if err := s.store.CreateScimKeyRequest(ctx, r, ev); err != nil {
		return nil, err
	}
	return r, nil
}

// ScimKeyRequests lists the requests of ws, or of every workspace (open
// ones only) for an operator when ws is "".
func (s *Service) ScimKeyRequests(ctx context.Context, p latchkey.Principal, ws string) ([]*latchkey.ScimKeyRequest, error) {
	if err := latchkey.Authorize(p, latchkey.ActScimRequestsRead, latchkey.Target{WorkspaceID: ws}); err != nil {
		return nil, err
	}
	if ws != "" {
		if _, err := s.store.Workspace(ctx, ws); err != nil {
			return nil, err
		}
	}
	return s.store.ScimKeyRequests(ctx, ws, ws == "")
}

// ApproveScimKeyRequest is an operator's answer to a request: the
// workspace may now have its SCIM key. No key is created and no secret
// shown here: operators never see one (SPEC §1). The workspace's owners,
// super admins and admins pick the key up (PickUpScimKey). Recorded as
// scim_key.approved in the request's workspace.
func (s *Service) ApproveScimKeyRequest(ctx context.Context, p latchkey.Principal, requestID string) (*latchkey.ScimKeyRequest, error) {
	if err := latchkey.Authorize(p, latchkey.ActScimKeyIssue, latchkey.Target{}); err != nil {
		return nil, err
	}
	if !id.Valid("skr", requestID) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "SCIM key request not found")
	}
	r, err := s.store.ScimKeyRequest(ctx, requestID)
	if err != nil {
		return nil, err
	}
	ev := s.event(p, r.WorkspaceID, latchkey.EventScimKeyApproved, r.ID, map[string]any{"contact_email": r.ContactEmail, "integration": r.Integration})
	return s.store.ApproveScimKeyRequest(ctx, r.ID, p.UserID, s.Now(), ev)
}

// ApproveScimKeyDirect is the CLI's path (latchkey operator scim-key): it
// records a request for ws and approves it at once, for the workspace's
// admins to pick up.
func (s *Service) ApproveScimKeyDirect(ctx context.Context, p latchkey.Principal, ws, contactEmail, integration string) (*latchkey.ScimKeyRequest, error) {
	if err := latchkey.Authorize(p, latchkey.ActScimKeyIssue, latchkey.Target{}); err != nil {
		return nil, err
	}
	if err := validateScimRequest(contactEmail, integration); err != nil {
		return nil, err
	}
	if _, err := s.store.Workspace(ctx, ws); err != nil {
		return nil, err
	}
	r := &latchkey.ScimKeyRequest{
		ID: s.ids.New("skr"), WorkspaceID: ws, ContactEmail: contactEmail, Integration: integration,
		RequestedBy: p.UserID, CreatedAt: s.Now(),
	}
	ev := s.event(p, ws, latchkey.EventScimKeyRequested, r.ID, map[string]any{"contact_email": contactEmail, "integration": integration})
	if err := s.store.CreateScimKeyRequest(ctx, r, ev); err != nil {
		return nil, err
	}
	return s.ApproveScimKeyRequest(ctx, p, r.ID)
}

// PickUpScimKey creates the SCIM key of an approved request of ws and
// returns its secret, this once: only its SHA-256 is stored, and a second
// pickup is ECONFLICT. Owners, super admins and admins of ws only (not
// members, management keys nor operators); a request of another workspace
// is ENOTFOUND. Recorded as scim_key.picked_up.
func (s *Service) PickUpScimKey(ctx context.Context, p latchkey.Principal, ws, requestID string) (*latchkey.Key, string, error) {
	if _, err := s.workspace(ctx, p, ws, latchkey.ActScimKeyPickup); err != nil {
		return nil, "", err
	}
	if !id.Valid("skr", requestID) {
		return nil, "", latchkey.Errorf(latchkey.ENOTFOUND, "SCIM key request not found")
	}
	r, err := s.store.ScimKeyRequest(ctx, requestID)
	if err != nil {
		return nil, "", err
	}
	if r.WorkspaceID != ws {
		return nil, "", latchkey.Errorf(latchkey.ENOTFOUND, "SCIM key request not found")
	}
	switch r.State() {
	case "open":
		return nil, "", latchkey.Errorf(latchkey.ECONFLICT, "this request is not approved yet")
	case "picked_up":
		return nil, "", latchkey.Errorf(latchkey.ECONFLICT, "this request's key was picked up already (key %s)", r.KeyID)
	}
	k, secret, err := s.scimKey(ctx, p, r)
	if err != nil {
		return nil, "", err
	}
	ev := s.event(p, ws, latchkey.EventScimKeyPickedUp, k.ID, map[string]any{"request": r.ID, "contact_email": r.ContactEmail, "integration": r.Integration})
	if err := s.store.IssueScimKey(ctx, r.ID, k, p.UserID, ev); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

func (s *Service) scimKey(ctx context.Context, p latchkey.Principal, r *latchkey.ScimKeyRequest) (*latchkey.Key, string, error) {
	w, err := s.store.Workspace(ctx, r.WorkspaceID)
	if err != nil {
		return nil, "", err
	}
	kt, ok := s.catalog.Type(latchkey.TypeSCIM)
	if !ok {
		return nil, "", latchkey.Errorf(latchkey.EINTERNAL, "the catalog has no scim type")
	}
	settings, err := kt.ValidateSettings(map[string]any{"integration": r.Integration, "contact_email": r.ContactEmail})
	if err != nil {
		return nil, "", err
	}
	now := s.Now()
	expires, err := w.Settings.Expiration.ResolveExpiry(now, "", nil)
	if err != nil {
		return nil, "", err
	}
	secret, start, err := s.format.New(s.rand, latchkey.Production)
	if err != nil {
		return nil, "", err
	}
	return &latchkey.Key{
		ID: s.ids.New(id.Key), WorkspaceID: r.WorkspaceID, Name: fmt.Sprintf("SCIM (%s)", r.Integration),
		Type: latchkey.TypeSCIM, Environment: latchkey.Production, Owner: latchkey.OwnerWorkspace,
		Scopes: []string{}, Settings: settings, CreatedBy: p.UserID, CreatedAt: now, ExpiresAt: expires,
		Start: start, Hash: token.Hash(secret), OwnerActive: true,
	}, secret, nil
}
