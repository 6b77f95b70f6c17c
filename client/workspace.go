package client

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/latchkey/latchkey"
)

// Settings are a workspace's policies: how keys expire, who issues SCIM
// keys, whether members may make personal keys, what happens to a leaked
// key.
type Settings struct {
	Expiration                   ExpirationPolicy `json:"expiration"`
	ScimCustomAttributes         bool             `json:"scim_custom_attributes"`
	ScimKeyIssuance              string           `json:"scim_key_issuance"` // "admins" or "operator"
	MembersMayCreatePersonalKeys bool             `json:"members_may_create_personal_keys"`
	RequireSecondFactor          bool             `json:"require_second_factor"`
	OnLeak                       string           `json:"on_leak"` // "revoke" or "notify"
}

// ExpirationPolicy is how long a workspace's keys live.
type ExpirationPolicy struct {
	Presets           []string            `json:"presets"`
	MaxLifetime       latchkey.Duration   `json:"max_lifetime"`
	AllowNeverExpire  bool                `json:"allow_never_expire"`
	NoticeBefore      []latchkey.Duration `json:"notice_before"`
	DeleteAfterExpiry latchkey.Duration   `json:"delete_after_expiry"`
	RevokedRetention  latchkey.Duration   `json:"revoked_retention"`
}

// Settings returns the settings of ws (a management key needs keys:read).
// They are changed by owners and super admins in the console: no key may
// change them, so a leaked key cannot loosen the policy its own kind obeys.
func (c *Client) Settings(ctx context.Context, ws string) (*Settings, error) {
	var out Settings
	if err := c.call(ctx, request{method: http.MethodGet, path: wsPath(ws, "settings"), idempotent: true}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Members returns the members of ws (members:read).
func (c *Client) Members(ctx context.Context, ws string) ([]Member, error) {
	var out struct {
		Data []Member `json:"data"`
	}
	if err := c.call(ctx, request{method: http.MethodGet, path: wsPath(ws, "members"), idempotent: true}, &out); err != nil {
		return nil, err
	}
	if out.Data == nil {
		out.Data = []Member{}
	}
	return out.Data, nil
}

// AddMemberRequest invites a person into a workspace.
type AddMemberRequest struct {
	Email string `json:"email"`
	Name  string `json:"name,omitempty"`
	Role  string `json:"role,omitempty"` // owner, super_admin, admin or member (the default)
}

// AddedMember is an invited member and their invitation: InviteURL (a
// path on the server) is where they choose a password and join. It is
// shown this once; hand it to the person over a channel you trust.
type AddedMember struct {
	Member      Member `json:"member"`
	InviteToken string `json:"invite_token,omitempty"`
	InviteURL   string `json:"invite_url,omitempty"`
}

// AddMember invites a person into ws (members:write; only owners invite
// owners, and a key never gives a role above its creator's). It is sent once, never retried, so a
// lost answer cannot become a second invitation.
func (c *Client) AddMember(ctx context.Context, ws string, in AddMemberRequest) (*AddedMember, error) {
	var out AddedMember
	if err := c.call(ctx, request{method: http.MethodPost, path: wsPath(ws, "members"), body: in}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// SetMemberRole changes the role of the member userID of ws. Only owners
// make or unmake owners.
func (c *Client) SetMemberRole(ctx context.Context, ws, userID, role string) (*Member, error) {
	var out struct {
		Member Member `json:"member"`
	}
	r := request{method: http.MethodPatch, path: wsPath(ws, "members", userID), body: map[string]string{"role": role}, idempotent: true}
	if err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	return &out.Member, nil
}

// DeleteMember removes the member userID from ws: their personal keys stop
// working and their console sessions there end. (RemoveMember does the same
// by the product's external id, for platform keys.)
func (c *Client) DeleteMember(ctx context.Context, ws, userID string) error {
	return c.call(ctx, request{method: http.MethodDelete, path: wsPath(ws, "members", userID), idempotent: true}, nil)
}

// UsageDay is one day's verifications of a key in one environment.
type UsageDay struct {
	Day         string               `json:"day"` // YYYY-MM-DD, UTC
	Environment latchkey.Environment `json:"environment"`
	Valid       int64                `json:"valid"`
	Denied      int64                `json:"denied"`
	// Outcomes breaks the day down by outcome: OutcomeValid or the
	// refusal's code ("rate_limited", "key_expired", ...); outcomes that
	// did not happen are absent.
	Outcomes map[string]int64 `json:"outcomes"`
}

// OutcomeValid is the outcome of the valid verifications in
// UsageDay.Outcomes; refusals are named by their latchkey.VerifyCode.
const OutcomeValid = latchkey.OutcomeValid

// Refused returns how many verifications of the day were refused with code.
func (d UsageDay) Refused(code latchkey.VerifyCode) int64 { return d.Outcomes[string(code)] }

// UsageTag is one day's count of a key's verifications carrying one tag.
type UsageTag struct {
	Day string `json:"day"` // YYYY-MM-DD, UTC
	// Tag is the tag as sent, or UsageTagOther for the tags beyond the
	// first 100 of the key and day.
	Tag           string `json:"tag"`
	Verifications int64  `json:"verifications"`
	Valid         int64  `json:"valid"`
}

// UsageTagOther is the tag under which a key's tags beyond the first 100
// of a day are counted.
const UsageTagOther = latchkey.UsageTagOther

// UsageOptions is the range of days KeyUsage reports: the last 30 days
// when both are zero. The server counts whole UTC days.
type UsageOptions struct {
	From, To time.Time
}

// KeyUsage returns the daily verification counts of a key, by outcome.
// Usage is recorded in batches, so the last seconds may not show yet.
func (c *Client) KeyUsage(ctx context.Context, ws, id string, opts UsageOptions) ([]UsageDay, error) {
	return usageList[UsageDay](ctx, c, wsPath(ws, "keys", id, "usage"), opts)
}

// KeyUsageTags returns, per day, how many verifications of a key carried
// each tag (VerifyRequest.Tags) and how many of them were valid, by day
// then tag.
func (c *Client) KeyUsageTags(ctx context.Context, ws, id string, opts UsageOptions) ([]UsageTag, error) {
	return usageList[UsageTag](ctx, c, wsPath(ws, "keys", id, "usage", "tags"), opts)
}

func usageList[T any](ctx context.Context, c *Client, path string, opts UsageOptions) ([]T, error) {
	q := url.Values{}
	if !opts.From.IsZero() {
		q.Set("from", opts.From.UTC().Format(time.DateOnly))
	}
	if !opts.To.IsZero() {
		q.Set("to", opts.To.UTC().Format(time.DateOnly))
	}
	var out struct {
		Data []T `json:"data"`
	}
	r := request{method: http.MethodGet, path: path, query: q, idempotent: true}
	if err := c.call(ctx, r, &out); err != nil {
		return nil, err
	}
	if out.Data == nil {
		out.Data = []T{}
	}
	return out.Data, nil
}
