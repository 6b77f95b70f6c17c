package latchkey

import (
	"slices"
	"time"
)

// Workspace is a tenant: one customer company. Every key, member and event
// belongs to exactly one workspace and nothing crosses workspaces.
type Workspace struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Settings  Settings  `json:"-"`
	CreatedAt time.Time `json:"created_at"`
}

// ValidateWorkspaceName checks a workspace name: 1–100 characters, none
// of them a control or spoofing character (see ValidateName).
func ValidateWorkspaceName(name string) error { return ValidateName("name", name, 100) }

// Settings are a workspace's policies, edited by owners and super admins.
type Settings struct {
	Expiration                   ExpirationPolicy `json:"expiration"`
	ScimCustomAttributes         bool             `json:"scim_custom_attributes"`
	ScimKeyIssuance              string           `json:"scim_key_issuance"`
	MembersMayCreatePersonalKeys bool             `json:"members_may_create_personal_keys"`
	// RequireSecondFactor takes members without a second factor to
	// enrolment after they log in.
	RequireSecondFactor bool `json:"require_second_factor"`
	// OnLeak says what happens to a key reported leaked: revoked at once
	// (the default) or only reported to the workspace.
	OnLeak LeakPolicy `json:"on_leak"`
}

// LeakPolicy is what a workspace does with a key whose secret is reported
// found in public. Workspaces created before the policy existed hold "",
// which means LeakRevoke.
type LeakPolicy string

// Leak policies.
const (
	LeakRevoke LeakPolicy = "revoke"
	LeakNotify LeakPolicy = "notify"
)

// Revokes reports whether a leaked key is revoked under p.
func (p LeakPolicy) Revokes() bool { return p != LeakNotify }

// MarshalJSON shows the policy in force, never "".
func (p LeakPolicy) MarshalJSON() ([]byte, error) {
	if p.Revokes() {
		return []byte(`"revoke"`), nil
	}
	return []byte(`"notify"`), nil
}

// SCIM key issuance policies: who may create a workspace's SCIM keys.
const (
	IssuanceAdmins   = "admins"
	IssuanceOperator = "operator"
)

// ExpirationPolicy bounds the lifetime of a workspace's keys and drives the
// expiry notices and automatic deletions.
type ExpirationPolicy struct {
	Presets           []string   `json:"presets"`
	MaxLifetime       Duration   `json:"max_lifetime"`
	AllowNeverExpire  bool       `json:"allow_never_expire"`
	NoticeBefore      []Duration `json:"notice_before"`
	DeleteAfterExpiry Duration   `json:"delete_after_expiry"`
	RevokedRetention  Duration   `json:"revoked_retention"`
}

// ExpirationPresets are the lifetimes a console offers by default (Cerby's list).
var ExpirationPresets = []string{"1h", "12h", "1d", "5d", "30d", "90d", "1y"}

// DefaultSettings returns the settings of a new workspace.
func DefaultSettings() Settings {
	return Settings{
		Expiration: ExpirationPolicy{
			Presets:           slices.Clone(ExpirationPresets),
			MaxLifetime:       Duration(Year),
			NoticeBefore:      []Duration{Duration(30 * Day)},
			DeleteAfterExpiry: Duration(90 * Day),
			RevokedRetention:  Duration(90 * Day),
		},
		ScimKeyIssuance:              IssuanceAdmins,
		MembersMayCreatePersonalKeys: true,
		OnLeak:                       LeakRevoke,
	}
}

// Validate checks the settings as a whole and returns an EINVALID error
// naming the first field that is wrong.
func (s Settings) Validate() error {
	p := s.Expiration
	bad := func(field, msg string) error {
		return Errorf(EINVALID, "%s", msg).WithDetail("field", field)
	}
	for _, pr := range p.Presets {
		d, err := ParseDuration(pr)
		if err != nil || d <= 0 {
			return bad("expiration.presets", "presets must be positive durations such as 1h, 30d or 1y")
		}
		if d > p.MaxLifetime && p.MaxLifetime > 0 {
			return bad("expiration.presets", "preset "+pr+" is longer than max_lifetime "+p.MaxLifetime.String())
		}
	}
	if p.MaxLifetime <= 0 || p.MaxLifetime > Duration(10*Year) {
		return bad("expiration.max_lifetime", "max_lifetime must be between 1s and 10y")
	}
	if len(p.NoticeBefore) > 5 {
		return bad("expiration.notice_before", "at most 5 notice windows")
	}
	for _, n := range p.NoticeBefore {
		if n <= 0 || n > p.MaxLifetime {
			return bad("expiration.notice_before", "notice windows must be positive and no longer than max_lifetime")
		}
	}
	if p.DeleteAfterExpiry <= 0 {
		return bad("expiration.delete_after_expiry", "delete_after_expiry must be positive")
	}
	if p.RevokedRetention <= 0 {
		return bad("expiration.revoked_retention", "revoked_retention must be positive")
	}
	if s.ScimKeyIssuance != IssuanceAdmins && s.ScimKeyIssuance != IssuanceOperator {
		return bad("scim_key_issuance", `scim_key_issuance must be "admins" or "operator"`)
	}
	if s.OnLeak != "" && s.OnLeak != LeakRevoke && s.OnLeak != LeakNotify {
		return bad("on_leak", `on_leak must be "revoke" or "notify"`)
	}
	return nil
}

// NoticeWindow is the widest notice window: a key whose expiry is nearer
// than this is "expiring".
func (p ExpirationPolicy) NoticeWindow() time.Duration {
	var w Duration
	for _, n := range p.NoticeBefore {
		w = max(w, n)
	}
	return time.Duration(w)
}

// ResolveExpiry turns a create or reset request's expires_in / expires_at into
// an expiry time under the policy. With neither, the key lives max_lifetime.
// expiresIn may be a preset, any duration, or "never".
func (p ExpirationPolicy) ResolveExpiry(now time.Time, expiresIn string, expiresAt *time.Time) (*time.Time, error) {
	if expiresIn != "" && expiresAt != nil {
		return nil, Errorf(EINVALID, "give expires_in or expires_at, not both").WithDetail("field", "expires_in")
	}
	var at time.Time
	switch {
	case expiresIn == "never":
		if !p.AllowNeverExpire {
			return nil, Errorf(EINVALID, "this workspace does not allow keys that never expire").WithDetail("field", "expires_in")
		}
		return nil, nil
	case expiresIn != "":
		d, err := ParseDuration(expiresIn)
		if err != nil {
			return nil, err.(*Error).WithDetail("field", "expires_in")
		}
		if d <= 0 {
			return nil, Errorf(EINVALID, "expires_in must be positive").WithDetail("field", "expires_in")
		}
		at = now.Add(time.Duration(d))
	case expiresAt != nil:
		at = *expiresAt
		if !at.After(now) {
			return nil, Errorf(EINVALID, "expires_at must be in the future").WithDetail("field", "expires_at")
		}
	default:
		at = now.Add(time.Duration(p.MaxLifetime))
	}
	if at.Sub(now) > time.Duration(p.MaxLifetime) {
		return nil, Errorf(EINVALID, "the key would outlive the workspace's maximum lifetime of %s", p.MaxLifetime).
			WithDetail("field", "expires_in").WithDetail("max_lifetime", p.MaxLifetime.String())
	}
	at = at.UTC().Truncate(time.Microsecond)
	return &at, nil
}
