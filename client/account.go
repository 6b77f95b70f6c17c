package client

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// Me is the caller: a user and their workspaces with their roles. For a
// management key it is the key's creator, and Workspaces holds exactly the
// key's own workspace.
type Me struct {
	User       User              `json:"user"`
	Workspaces []MemberWorkspace `json:"workspaces"`
}

// User is a person who logs in to latchkey.
type User struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Name      string    `json:"name,omitempty"`
	Operator  bool      `json:"operator,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// MemberWorkspace is one of the caller's workspaces and their role there.
type MemberWorkspace struct {
	ID     string `json:"id"`
	Name   string `json:"name"`
	Role   string `json:"role"` // owner, super_admin, admin or member
	Active bool   `json:"active"`
}

// Me returns who the management key acts for.
func (c *Client) Me(ctx context.Context) (*Me, error) {
	var out Me
	if err := c.call(ctx, request{method: http.MethodGet, path: "/v1/me", idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Event is an audit record: who did what to which object, when, from where.
type Event struct {
	ID          string         `json:"id"`
	WorkspaceID string         `json:"workspace_id"`
	At          time.Time      `json:"at"`
	Actor       Actor          `json:"actor"`
	Action      string         `json:"action"` // such as "key.created"
	Target      string         `json:"target,omitempty"`
	IP          string         `json:"ip,omitempty"`
	Data        map[string]any `json:"data,omitempty"`
}

// Actor is who caused an event.
type Actor struct {
	Type  string `json:"type"` // user, key, operator, platform_key or system
	ID    string `json:"id,omitempty"`
	Label string `json:"label,omitempty"`
}

// EventsOptions filters and pages Events; zero fields filter nothing.
type EventsOptions struct {
	Action   string // exact, or a prefix ending in "." such as "key."
	Target   string // an object's id
	Actor    string // an actor's id
	From, To time.Time
	Limit    int
	Cursor   string
}

// EventPage is one page of events, newest first.
type EventPage struct {
	Data       []Event `json:"data"`
	NextCursor string  `json:"next_cursor"`
}

// Events returns one page of the audit log of ws.
func (c *Client) Events(ctx context.Context, ws string, opts EventsOptions) (*EventPage, error) {
	q := url.Values{}
	for k, v := range map[string]string{"action": opts.Action, "target": opts.Target, "actor": opts.Actor, "cursor": opts.Cursor} {
		if v != "" {
			q.Set(k, v)
		}
	}
	if !opts.From.IsZero() {
		q.Set("from", opts.From.UTC().Format(time.RFC3339))
	}
	if !opts.To.IsZero() {
		q.Set("to", opts.To.UTC().Format(time.RFC3339))
	}
	if opts.Limit > 0 {
		q.Set("limit", strconv.Itoa(opts.Limit))
	}
	var out EventPage
	if err := c.call(ctx, request{method: http.MethodGet, path: wsPath(ws, "events"), query: q, idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Catalog is what key types the server offers, with their scopes and
// settings: what a CreateKeyRequest may ask for.
type Catalog struct {
	Types []KeyType `json:"types"`
}

// KeyType is one kind of key.
type KeyType struct {
	Name        string    `json:"name"`
	Label       string    `json:"label"`
	Description string    `json:"description,omitempty"`
	Personal    bool      `json:"personal,omitempty"` // members may own one
	Scopes      []Scope   `json:"scopes,omitempty"`
	Settings    []Setting `json:"settings,omitempty"`
}

// Scope is a permission "resource:action" with a label for people.
type Scope struct {
	Name  string `json:"name"`
	Label string `json:"label"`
}

// Setting describes one setting of a key type.
type Setting struct {
	Name    string   `json:"name"`
	Label   string   `json:"label"`
	Kind    string   `json:"kind"` // bool, string, email or enum
	Values  []string `json:"values,omitempty"`
	Default any      `json:"default,omitempty"`
}

// Catalog returns the server's key type catalog.
func (c *Client) Catalog(ctx context.Context) (*Catalog, error) {
	var out Catalog
	if err := c.call(ctx, request{method: http.MethodGet, path: "/v1/catalog", idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}
