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

// IssueScimKey fulfils a request: an operator issues the workspace's SCIM
// key with the request's contact email and integration in its settings.
// The secret is returned this once, for the operator to pass on.
func (s *Service) IssueScimKey(ctx context.Context, p latchkey.Principal, requestID string) (*latchkey.Key, string, error) {
	if err := latchkey.Authorize(p, latchkey.ActScimKeyIssue, latchkey.Target{}); err != nil {
		return nil, "", err
	}
	if !id.Valid("skr", requestID) {
		return nil, "", latchkey.Errorf(latchkey.ENOTFOUND, "SCIM key request not found")
	}
	r, err := s.store.ScimKeyRequest(ctx, requestID)
	if err != nil {
		return nil, "", err
	}
	if r.KeyID != "" {
		return nil, "", latchkey.Errorf(latchkey.ECONFLICT, "this request was fulfilled already (key %s)", r.KeyID)
	}
	k, secret, err := s.scimKey(ctx, p, r)
	if err != nil {
		return nil, "", err
	}
	ev := s.event(p, r.WorkspaceID, latchkey.EventScimKeyRequestIssue, k.ID, map[string]any{"request": r.ID, "contact_email": r.ContactEmail, "integration": r.Integration})
	if err := s.store.IssueScimKey(ctx, r.ID, k, p.UserID, ev); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// IssueScimKeyDirect is the CLI's path (latchkey operator scim-key): it
// records a request and fulfils it at once.
func (s *Service) IssueScimKeyDirect(ctx context.Context, p latchkey.Principal, ws, contactEmail, integration string) (*latchkey.Key, string, error) {
	if err := latchkey.Authorize(p, latchkey.ActScimKeyIssue, latchkey.Target{}); err != nil {
		return nil, "", err
	}
	if err := validateScimRequest(contactEmail, integration); err != nil {
		return nil, "", err
	}
	if _, err := s.store.Workspace(ctx, ws); err != nil {
		return nil, "", err
	}
	r := &latchkey.ScimKeyRequest{
		ID: s.ids.New("skr"), WorkspaceID: ws, ContactEmail: contactEmail, Integration: integration,
		RequestedBy: p.UserID, CreatedAt: s.Now(),
	}
	ev := s.event(p, ws, latchkey.EventScimKeyRequested, r.ID, map[string]any{"contact_email": contactEmail, "integration": integration})
	if err := s.store.CreateScimKeyRequest(ctx, r, ev); err != nil {
		return nil, "", err
	}
	return s.IssueScimKey(ctx, p, r.ID)
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
