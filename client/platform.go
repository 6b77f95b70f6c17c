package client

import (
	"context"
	"net/http"
	"net/url"
	"time"
)

// The calls a product's backend makes with a platform key (WithToken):
// provision a customer's workspace, sync its people, and sign one of them
// into latchkey's console (a portal session).

// ProvisionedWorkspace is a workspace the product provisioned, with the
// product's id for the customer.
type ProvisionedWorkspace struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	ExternalID string    `json:"external_id"`
	CreatedAt  time.Time `json:"created_at"`
}

// ProvisionWorkspace returns the workspace of the product's customer
// externalID, creating it the first time (created true). Retrying it is
// safe: the same external id never makes a second workspace.
func (c *Client) ProvisionWorkspace(ctx context.Context, name, externalID string) (ws *ProvisionedWorkspace, created bool, err error) {
	var out struct {
		Workspace *ProvisionedWorkspace `json:"workspace"`
		Created   bool                  `json:"created"`
	}
	in := map[string]string{"name": name, "external_id": externalID}
	if err := c.call(ctx, request{method: http.MethodPost, path: "/v1/workspaces", body: in, idempotent: true}, &out); err != nil {
		return nil, false, err
	}
	return out.Workspace, out.Created, nil
}

// WorkspaceByExternalID finds the product's workspace for externalID; the
// error matches ErrNotFound when there is none.
func (c *Client) WorkspaceByExternalID(ctx context.Context, externalID string) (*ProvisionedWorkspace, error) {
	var out struct {
		Data []*ProvisionedWorkspace `json:"data"`
	}
	if err := c.call(ctx, request{method: http.MethodGet, path: "/v1/workspaces", query: url.Values{"external_id": {externalID}}, idempotent: true}, &out); err != nil {
		return nil, err
	}
	if len(out.Data) == 0 {
		return nil, &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "no workspace has the external id " + externalID}
	}
	return out.Data[0], nil
}

// PortalUser is one of the product's people as the product knows them,
// with the role the product gives them in the workspace (owner,
// super_admin, admin or member; never above the platform key's max role).
type PortalUser struct {
	ExternalID string `json:"external_id"`
	Email      string `json:"email"`
	Name       string `json:"name,omitempty"`
	Role       string `json:"role,omitempty"`
}

// Member is a membership as the management API answers it.
type Member struct {
	WorkspaceID string    `json:"workspace_id"`
	UserID      string    `json:"user_id"`
	Email       string    `json:"email"`
	Name        string    `json:"name,omitempty"`
	Role        string    `json:"role"`
	Active      bool      `json:"active"`
	Invited     bool      `json:"invited"`
	CreatedAt   time.Time `json:"created_at"`
}

// SyncMember adds the product's person to the workspace, or updates their
// email, name and role.
func (c *Client) SyncMember(ctx context.Context, workspaceID string, u PortalUser) (*Member, error) {
	var out Member
	in := map[string]string{"email": u.Email, "name": u.Name, "role": u.Role}
	path := "/v1/workspaces/" + url.PathEscape(workspaceID) + "/members/by-external-id/" + url.PathEscape(u.ExternalID)
	if err := c.call(ctx, request{method: http.MethodPut, path: path, body: in, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// RemoveMember ends the person's membership, their keys there and their
// console sessions.
func (c *Client) RemoveMember(ctx context.Context, workspaceID, externalID string) error {
	path := "/v1/workspaces/" + url.PathEscape(workspaceID) + "/members/by-external-id/" + url.PathEscape(externalID)
	return c.call(ctx, request{method: http.MethodDelete, path: path, idempotent: true}, nil)
}

// PortalSession is a one-time URL that signs a person into the console.
type PortalSession struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// CreatePortalSession signs the product's person into the console of one
// workspace: redirect their browser to the answer's URL, which works once,
// within 5 minutes. returnURL ("" for none) is where "Back to <product>"
// leads; it must be on one of the product's origins the server allows.
func (c *Client) CreatePortalSession(ctx context.Context, workspaceID string, u PortalUser, returnURL string) (*PortalSession, error) {
	var out PortalSession
	in := map[string]any{"workspace_id": workspaceID, "user": u}
	if returnURL != "" {
		in["return_url"] = returnURL
	}
	if err := c.call(ctx, request{method: http.MethodPost, path: "/v1/portal/sessions", body: in}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
