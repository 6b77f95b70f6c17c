package client

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/latchkey/latchkey"
)

// Key is an API key as the management API shows it. It never holds the
// secret: that is only in a KeyWithSecret, once.
type Key struct {
	ID          string               `json:"id"`
	WorkspaceID string               `json:"workspace_id"`
	Name        string               `json:"name"`
	Description string               `json:"description"`
	Type        string               `json:"type"`
	Environment latchkey.Environment `json:"environment"`
	// Owner is "workspace" for a company-wide key, else the id of the
	// member who owns a personal key.
	Owner       string              `json:"owner"`
	Scopes      []string            `json:"scopes"`
	Settings    map[string]any      `json:"settings"`
	CallbackURL string              `json:"callback_url,omitempty"`
	RateLimit   *latchkey.RateLimit `json:"rate_limit,omitempty"`
	// AllowedIPs are the networks (CIDR prefixes) the key's callers must
	// come from; empty means anywhere.
	AllowedIPs []string `json:"allowed_ips,omitempty"`
	// ExternalID and Meta are the product's own: its id for the key's
	// customer and a JSON object, both returned by verification.
	ExternalID string          `json:"external_id,omitempty"`
	Meta       json.RawMessage `json:"meta,omitempty"`
	// Credits, when set, are what verifications spend; nil is unlimited.
	// Remaining is an upper bound while instances hold leases.
	Credits *latchkey.Credits `json:"credits"`
	// RateLimits are the key's named limits, held across every instance.
	RateLimits []latchkey.NamedLimit `json:"ratelimits,omitempty"`
	CreatedBy  string                `json:"created_by"`
	CreatedAt  time.Time             `json:"created_at"`
	ExpiresAt  *time.Time            `json:"expires_at"`
	LastUsedAt *time.Time            `json:"last_used_at"`
	RevokedAt  *time.Time            `json:"revoked_at"`
	RevokedBy  string                `json:"revoked_by,omitempty"`
	// DisabledAt is set while the key is suspended (DisableKey).
	DisabledAt *time.Time `json:"disabled_at"`
	DisabledBy string     `json:"disabled_by,omitempty"`
	// Start is the display form of the secret: its prefix and first four
	// random characters, enough to recognise a key, useless to use it.
	Start  string          `json:"start"`
	Status latchkey.Status `json:"status"`
}

// KeyWithSecret is the answer of CreateKey and ResetKey: the only time the
// server sends a secret. Store it at once; it cannot be shown again.
type KeyWithSecret struct {
	Key    Key    `json:"key"`
	Secret string `json:"secret"`
}

// CreateKeyRequest is a new key. Only Name is required: the type defaults
// to public_api, the environment to production, the owner to the workspace
// (a personal key for members), the expiry to the workspace's policy.
type CreateKeyRequest struct {
	Name        string               `json:"name"`
	Description string               `json:"description,omitempty"`
	Type        string               `json:"type,omitempty"`
	Environment latchkey.Environment `json:"environment,omitempty"`
	Owner       string               `json:"owner,omitempty"` // "workspace" or "me"
	Scopes      []string             `json:"scopes,omitempty"`
	Settings    map[string]any       `json:"settings,omitempty"`
	// ExpiresIn is a preset or duration ("1h", "30d", "1y"); ExpiresAt an
	// exact time. Give at most one.
	ExpiresIn   string              `json:"expires_in,omitempty"`
	ExpiresAt   *time.Time          `json:"expires_at,omitempty"`
	CallbackURL string              `json:"callback_url,omitempty"`
	RateLimit   *latchkey.RateLimit `json:"rate_limit,omitempty"`
	// AllowedIPs binds the key to networks: CIDR prefixes or addresses.
	AllowedIPs []string        `json:"allowed_ips,omitempty"`
	ExternalID string          `json:"external_id,omitempty"`
	Meta       json.RawMessage `json:"meta,omitempty"`
	// Credits makes every verification spend from a balance, refilled
	// daily or monthly when Refill is set; nil is unlimited.
	Credits *latchkey.CreditsInput `json:"credits,omitempty"`
	// RateLimits are named limits held across every instance.
	RateLimits []latchkey.NamedLimit `json:"ratelimits,omitempty"`
}

// UpdateKeyRequest edits a key: nil fields stay as they are; Settings are
// merged into the current ones.
type UpdateKeyRequest struct {
	Name        *string
	Description *string
	CallbackURL *string // "" removes it
	Scopes      *[]string
	Settings    map[string]any
	RateLimit   *latchkey.RateLimit
	// ClearRateLimit removes the key's rate limit (sent as "rate_limit": null).
	ClearRateLimit bool
	// AllowedIPs replaces the key's networks; an empty list removes them.
	AllowedIPs *[]string
	// ExternalID replaces the product's id for the key's customer; ""
	// removes it.
	ExternalID *string
	// Meta replaces the key's metadata, a JSON object; {} removes it.
	Meta json.RawMessage
	// Credits sets the key's credits afresh; ClearCredits makes the key
	// unlimited (sent as "credits": null).
	Credits      *latchkey.CreditsInput
	ClearCredits bool
	// RateLimits replaces the key's named limits; an empty list removes
	// them.
	RateLimits *[]latchkey.NamedLimit
}

// MarshalJSON writes only the fields to change, rate_limit as null when
// ClearRateLimit asks for it and credits as null for ClearCredits.
func (u UpdateKeyRequest) MarshalJSON() ([]byte, error) {
	m := map[string]any{}
	if u.Name != nil {
		m["name"] = *u.Name
	}
	if u.Description != nil {
		m["description"] = *u.Description
	}
	if u.CallbackURL != nil {
		m["callback_url"] = *u.CallbackURL
	}
	if u.Scopes != nil {
		m["scopes"] = *u.Scopes
	}
	if u.Settings != nil {
		m["settings"] = u.Settings
	}
	if u.AllowedIPs != nil {
		m["allowed_ips"] = *u.AllowedIPs
	}
	if u.ExternalID != nil {
		m["external_id"] = *u.ExternalID
	}
	if u.Meta != nil {
		m["meta"] = u.Meta
	}
	switch {
	case u.ClearCredits:
		m["credits"] = nil
	case u.Credits != nil:
		m["credits"] = u.Credits
	}
	if u.RateLimits != nil {
		m["ratelimits"] = *u.RateLimits
	}
	switch {
	case u.ClearRateLimit:
		m["rate_limit"] = nil
	case u.RateLimit != nil:
		m["rate_limit"] = u.RateLimit
	}
	return json.Marshal(m)
}

// ListKeysOptions filters and pages ListKeys; zero fields filter nothing.
type ListKeysOptions struct {
	Status      latchkey.Status
	Type        string
	Environment latchkey.Environment
	Owner       string // "workspace", "me" or a user id
	Query       string // part of the name
	Limit       int    // 1–200; the server's default when 0
	Cursor      string // NextCursor of the previous page
}

func (o ListKeysOptions) values() url.Values {
	q := url.Values{}
	set := func(k, v string) {
		if v != "" {
			q.Set(k, v)
		}
	}
	set("status", string(o.Status))
	set("type", o.Type)
	set("environment", string(o.Environment))
	set("owner", o.Owner)
	set("q", o.Query)
	set("cursor", o.Cursor)
	if o.Limit > 0 {
		q.Set("limit", strconv.Itoa(o.Limit))
	}
	return q
}

// KeyPage is one page of keys; NextCursor is empty on the last page.
type KeyPage struct {
	Data       []Key  `json:"data"`
	NextCursor string `json:"next_cursor"`
}

type keyAnswer struct {
	Key Key `json:"key"`
}

// CreateKey creates a key in workspace ws and returns it with its secret.
func (c *Client) CreateKey(ctx context.Context, ws string, in CreateKeyRequest) (*KeyWithSecret, error) {
	var out KeyWithSecret
	if err := c.call(ctx, request{method: http.MethodPost, path: wsPath(ws, "keys"), body: in}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ListKeys returns one page of the keys of ws that the caller may see.
func (c *Client) ListKeys(ctx context.Context, ws string, opts ListKeysOptions) (*KeyPage, error) {
	var out KeyPage
	r := request{method: http.MethodGet, path: wsPath(ws, "keys"), query: opts.values(), idempotent: true}
	if err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// AllKeys iterates over every key ListKeys would return, following the
// cursors from opts.Cursor on. It stops after the first error, which it
// yields with a nil key.
func (c *Client) AllKeys(ctx context.Context, ws string, opts ListKeysOptions) iter.Seq2[*Key, error] {
	return func(yield func(*Key, error) bool) {
		for {
			page, err := c.ListKeys(ctx, ws, opts)
			if err != nil {
				yield(nil, err)
				return
			}
			for i := range page.Data {
				if !yield(&page.Data[i], nil) {
					return
				}
			}
			// A cursor that does not move would loop forever.
			if page.NextCursor == "" || page.NextCursor == opts.Cursor {
				return
			}
			opts.Cursor = page.NextCursor
		}
	}
}

// GetKey returns one key of ws.
func (c *Client) GetKey(ctx context.Context, ws, id string) (*Key, error) {
	return c.keyCall(ctx, request{method: http.MethodGet, path: wsPath(ws, "keys", id), idempotent: true})
}

// UpdateKey edits a key's name, description, callback URL, scopes,
// settings or rate limit. A revoked key cannot change.
func (c *Client) UpdateKey(ctx context.Context, ws, id string, in UpdateKeyRequest) (*Key, error) {
	// A PATCH sets fields to values: sending it twice changes nothing more.
	return c.keyCall(ctx, request{method: http.MethodPatch, path: wsPath(ws, "keys", id), body: in, idempotent: true})
}

// RevokeKey revokes a key for good. Revoking a revoked key succeeds, so a
// retry is safe. Verification refuses the key before this returns.
func (c *Client) RevokeKey(ctx context.Context, ws, id string) (*Key, error) {
	return c.keyCall(ctx, request{method: http.MethodPost, path: wsPath(ws, "keys", id, "revoke"), idempotent: true})
}

// DisableKey suspends a key: verification answers key_disabled until
// EnableKey. Disabling a disabled key succeeds; a revoked key is a conflict.
func (c *Client) DisableKey(ctx context.Context, ws, id string) (*Key, error) {
	return c.keyCall(ctx, request{method: http.MethodPost, path: wsPath(ws, "keys", id, "disable"), idempotent: true})
}

// EnableKey resumes a disabled key. Enabling an enabled key succeeds; a
// revoked key cannot be resumed.
func (c *Client) EnableKey(ctx context.Context, ws, id string) (*Key, error) {
	return c.keyCall(ctx, request{method: http.MethodPost, path: wsPath(ws, "keys", id, "enable"), idempotent: true})
}

// ResetKey gives a key a new secret, keeping its id, scopes and settings.
// The old secret stops at once, or keeps working for grace (at most 7 days)
// so that deployments can switch over.
func (c *Client) ResetKey(ctx context.Context, ws, id string, grace time.Duration) (*KeyWithSecret, error) {
	body := map[string]any{}
	if grace > 0 {
		body["grace_period"] = latchkey.Duration(grace)
	}
	var out KeyWithSecret
	// Never retried: a second reset would replace the secret of the first,
	// whose answer may have been lost.
	if err := c.call(ctx, request{method: http.MethodPost, path: wsPath(ws, "keys", id, "reset"), body: body}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// DeleteKey removes a key; verification then answers key_invalid. Its
// audit events stay. A retry after a lost answer gets ErrNotFound.
func (c *Client) DeleteKey(ctx context.Context, ws, id string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: wsPath(ws, "keys", id), idempotent: true}, nil)
}

func (c *Client) keyCall(ctx context.Context, r request) (*Key, error) {
	var out keyAnswer
	if err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out.Key, nil
}
