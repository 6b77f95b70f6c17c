package latchkey

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"slices"
	"strings"
	"time"
)

// OwnerWorkspace is the Owner of a company-wide key; any other Owner value is
// the id of the member who owns a personal key.
const OwnerWorkspace = "workspace"

// Key is an API key. The secret itself is never stored: only its SHA-256.
type Key struct {
	ID          string         `json:"id"`
	WorkspaceID string         `json:"workspace_id"`
	Name        string         `json:"name"`
	Description string         `json:"description"`
	Type        string         `json:"type"`
	Environment Environment    `json:"environment"`
	Owner       string         `json:"owner"`
	Scopes      []string       `json:"scopes"`
	Settings    map[string]any `json:"settings"`
	CallbackURL string         `json:"callback_url,omitempty"`
	RateLimit   *RateLimit     `json:"rate_limit,omitempty"`
	// AllowedIPs binds the key to networks: CIDR prefixes (IPv4 or IPv6,
	// canonical, see ParseAllowedIPs) its callers must come from. Empty
	// means anywhere.
	AllowedIPs []string   `json:"allowed_ips,omitempty"`
	CreatedBy  string     `json:"created_by"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  *time.Time `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	RevokedBy  string     `json:"revoked_by,omitempty"`
	// DisabledAt suspends the key until it is enabled again: unlike a
	// revocation, a disable can be undone.
	DisabledAt *time.Time `json:"disabled_at"`
	DisabledBy string     `json:"disabled_by,omitempty"`
	Start      string     `json:"start"`
	// ExternalID is the product's own id for the key's customer or user
	// (see ValidateKeyExternalID), returned by verification.
	ExternalID string `json:"external_id,omitempty"`
	// Meta is a JSON object the product keeps with the key (see
	// ParseMeta), returned by verification; nil when none.
	Meta json.RawMessage `json:"meta,omitempty"`
	// Credits are what the key may still spend (nil: unlimited).
	Credits *Credits `json:"credits"`
	// RateLimits are the key's named limits, held across every instance
	// (RateLimit above is the cheaper per-instance one).
	RateLimits []NamedLimit `json:"ratelimits,omitempty"`

	// Hash is SHA-256 of the current secret.
	Hash [32]byte `json:"-"`
	// PreviousHash is the secret replaced by a reset with a grace period;
	// it keeps verifying until PreviousExpiresAt.
	PreviousHash      *[32]byte  `json:"-"`
	PreviousExpiresAt *time.Time `json:"-"`

	// OwnerActive is derived by the store: false when the owner of a
	// personal key has been removed or deprovisioned.
	OwnerActive bool `json:"-"`
}

// RateLimit caps how often a key may be verified: Limit requests per Period.
type RateLimit struct {
	Limit  int      `json:"limit"`
	Period Duration `json:"period"`
}

// Status is a key's state, derived from its times and never stored.
type Status string

// Key statuses as shown by the console: green, amber, red, grey.
const (
	StatusActive   Status = "active"
	StatusExpiring Status = "expiring"
	StatusExpired  Status = "expired"
	StatusRevoked  Status = "revoked"
	// StatusDisabled is a key suspended by a disable, until enabled again.
	StatusDisabled Status = "disabled"
)

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	switch s {
	case StatusActive, StatusExpiring, StatusExpired, StatusRevoked, StatusDisabled:
		return true
	}
	return false
}

// Status derives the key's status at now; notice is the expiry notice
// window that applies to it (see NoticeWindow). A key created inside the
// window is not expiring on that account: its expiry is no news to anyone,
// so a 30-day key stays active under a 30-day window.
func (k *Key) Status(now time.Time, notice time.Duration) Status {
	switch {
	case k.RevokedAt != nil:
		return StatusRevoked
	case k.ExpiresAt != nil && !now.Before(*k.ExpiresAt):
		return StatusExpired
	// After revoked and expired: those are for good, a disable is not.
	case k.DisabledAt != nil:
		return StatusDisabled
	case k.ExpiresAt != nil && k.ExpiresAt.Sub(now) <= notice && !k.CreatedInside(notice):
		return StatusExpiring
	}
	return StatusActive
}

// CreatedInside reports whether the key was created inside the notice
// window before its expiry: such a window tells nobody anything new, so it
// neither marks the key expiring nor sends mail. A key without a creation
// time (or expiry) is taken as created before every window.
func (k *Key) CreatedInside(window time.Duration) bool {
	return k.ExpiresAt != nil && !k.CreatedAt.IsZero() && k.ExpiresAt.Sub(k.CreatedAt) <= window
}

// NoticeWindow is the widest of the workspace's notice windows the key was
// not created inside, or 0 when there is none: the window that decides
// when the key shows as expiring.
func (k *Key) NoticeWindow(windows []Duration) time.Duration {
	var widest time.Duration
	for _, w := range windows {
		if d := time.Duration(w); d > widest && !k.CreatedInside(d) {
			widest = d
		}
	}
	return widest
}

// Personal reports whether the key belongs to one member rather than the workspace.
func (k *Key) Personal() bool { return k.Owner != OwnerWorkspace }

// ValidateKeyName checks a key's title: 1–100 characters, none of them
// a control or spoofing character (see ValidateName).
func ValidateKeyName(name string) error { return ValidateName("name", name, 100) }

// ValidateDescription checks a key's description: at most 1000
// characters of text, lines and tabs allowed (see ValidateText).
func ValidateDescription(d string) error { return ValidateText("description", d, 1000) }

// ValidateCallbackURL checks an optional webhook URL: https, or http only
// for localhost, with a host and no credentials.
func ValidateCallbackURL(raw string) error {
	if raw == "" {
		return nil
	}
	bad := Errorf(EINVALID, "callback_url must be an https URL (http only for localhost)").WithDetail("field", "callback_url")
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || len(raw) > 2000 {
		return bad
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		host := u.Hostname()
		if host == "localhost" {
			return nil
		}
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			return nil
		}
	}
	return bad
}

// ValidateRateLimit checks a per-key rate limit; nil means none.
func ValidateRateLimit(r *RateLimit) error {
	if r == nil {
		return nil
	}
	if r.Limit < 1 || r.Limit > 1_000_000 {
		return Errorf(EINVALID, "rate_limit.limit must be between 1 and 1000000").WithDetail("field", "rate_limit.limit")
	}
	if r.Period < Duration(time.Second) || r.Period > Duration(Day) {
		return Errorf(EINVALID, "rate_limit.period must be between 1s and 1d").WithDetail("field", "rate_limit.period")
	}
	return nil
}

// MaxExternalID bounds a key's external id, in characters.
const MaxExternalID = 256

// MaxMeta bounds a key's metadata, in bytes of compact JSON: it is sent
// with every verification answer.
const MaxMeta = 4096

// ValidateKeyExternalID checks a key's external id: at most 256 characters
// of one line, "" for none.
func ValidateKeyExternalID(id string) error {
	if id == "" {
		return nil
	}
	return ValidateName("external_id", id, MaxExternalID)
}

// ParseMeta checks a key's metadata and returns it compacted: a JSON
// object of at most MaxMeta bytes. nil (or JSON null) means none, and so
// does an empty object.
func ParseMeta(raw json.RawMessage) (json.RawMessage, error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || bytes.Equal(raw, []byte("null")) {
		return nil, nil
	}
	bad := func(msg string) error { return Errorf(EINVALID, "meta %s", msg).WithDetail("field", "meta") }
	if raw[0] != '{' {
		return nil, bad("must be a JSON object")
	}
	var b bytes.Buffer
	if err := json.Compact(&b, raw); err != nil {
		return nil, bad("is not valid JSON")
	}
	if b.Len() > MaxMeta {
		return nil, bad(fmt.Sprintf("may be at most %d bytes of JSON", MaxMeta))
	}
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(b.Bytes(), &probe); err != nil {
		return nil, bad("must be a JSON object")
	}
	if len(probe) == 0 {
		return nil, nil
	}
	return b.Bytes(), nil
}

// MaxGracePeriod bounds how long a reset key's old secret may keep working.
const MaxGracePeriod = 7 * Day

// MaxAllowedIPs bounds a key's allowlist: it is checked on every
// verification, so it stays a handful of prefixes, not a database.
const MaxAllowedIPs = 64

// ParseAllowedIPs checks an allowlist and returns it in canonical form:
// each entry a CIDR prefix ("10.0.0.0/8", "2001:db8::/32") or a single
// address (made a /32 or /128), IPv4-mapped IPv6 forms written as IPv4,
// duplicates dropped, order kept. A prefix with host bits set
// ("10.1.2.3/8") is refused rather than silently widened or narrowed:
// the caller may have meant either. nil for an empty list.
func ParseAllowedIPs(list []string) ([]string, error) {
	if len(list) > MaxAllowedIPs {
		return nil, Errorf(EINVALID, "allowed_ips may hold at most %d networks", MaxAllowedIPs).WithDetail("field", "allowed_ips")
	}
	var out []string
	for _, raw := range list {
		p, err := parsePrefix(strings.TrimSpace(raw))
		if err != nil {
			return nil, Errorf(EINVALID, "allowed_ips: %v", err).WithDetail("field", "allowed_ips")
		}
		if s := p.String(); !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out, nil
}

// AllowedPrefixes parses a stored, canonical allowlist (see ParseAllowedIPs).
func AllowedPrefixes(list []string) ([]netip.Prefix, error) {
	out := make([]netip.Prefix, 0, len(list))
	for _, s := range list {
		p, err := parsePrefix(s)
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

func parsePrefix(s string) (netip.Prefix, error) {
	if len(s) > 64 {
		return netip.Prefix{}, fmt.Errorf("an entry is not an address or a CIDR prefix")
	}
	if !strings.Contains(s, "/") {
		a, err := netip.ParseAddr(s)
		if err != nil || a.Zone() != "" {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or a CIDR prefix", s)
		}
		a = a.Unmap()
		return netip.PrefixFrom(a, a.BitLen()), nil
	}
	p, err := netip.ParsePrefix(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or a CIDR prefix", s)
	}
	if p.Masked() != p {
		return netip.Prefix{}, fmt.Errorf("%q has bits set after the prefix length; write %s for the network", s, p.Masked())
	}
	if a := p.Addr(); a.Is4In6() && p.Bits() >= 96 {
		p = netip.PrefixFrom(a.Unmap(), p.Bits()-96)
	}
	return p, nil
}

// AllowsAddr reports whether an address may use a key with the allowlist
// list; an empty list allows every address, an invalid address none. The
// verify path has its own allocation-free copy of this test.
func AllowsAddr(list []string, addr string) bool {
	if len(list) == 0 {
		return true
	}
	a, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	a = a.WithZone("").Unmap()
	prefixes, err := AllowedPrefixes(list)
	if err != nil {
		return false
	}
	for _, p := range prefixes {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// allowlistWithin reports whether the allowlist a admits no address b
// refuses: b is empty (anywhere), or every prefix of a lies inside one of b.
func allowlistWithin(a, b []string) bool {
	if len(b) == 0 {
		return true
	}
	if len(a) == 0 {
		return false
	}
	pa, err1 := AllowedPrefixes(a)
	pb, err2 := AllowedPrefixes(b)
	if err1 != nil || err2 != nil {
		return false
	}
	for _, p := range pa {
		if !slices.ContainsFunc(pb, func(q netip.Prefix) bool {
			return q.Addr().Is4() == p.Addr().Is4() && q.Bits() <= p.Bits() && q.Contains(p.Addr())
		}) {
			return false
		}
	}
	return true
}
