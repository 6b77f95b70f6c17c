package verify

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"net/netip"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// entry is what a decision needs about one key. It holds a single pointer
// (data) so that a cache of a million entries costs the garbage collector
// a million small no-scan strings rather than millions of pointers to chase:
// the body of the 200 answer and every string field are cut out of data.
type entry struct {
	data        string
	ends        [numParts - 1]uint32 // end offsets in data; the last part runs to len(data)
	hash        [32]byte
	prev        [32]byte
	expires     int64 // UnixNano; math.MaxInt64 when the key never expires
	prevExpires int64 // UnixNano; math.MinInt64 when there is no grace period
	ratePeriod  int64 // nanoseconds; 0 when the key has no rate limit
	fetched     int64 // UnixNano of the store read, for Config.MaxAge
	rateLimit   int32
	// The credits' refill rule (see creditBudget); credits is set when
	// the key has credits at all.
	creditAmount   int64
	creditInterval uint8 // 0 none, 1 daily, 2 monthly
	credits        bool
	hasPrev        bool
	revoked        bool
	disabled       bool
	ownerActive    bool
	demo           bool
	verifiable     bool // the type is accepted when the request names none
	bound          bool // the key has an allowlist (partAllow is not empty)
}

// Parts of entry.data, in order.
const (
	partBody      = iota // {"valid":true,"key":{...}}
	partID               // key id
	partWorkspace        // workspace id
	partOwner            // "workspace" or a user id
	partType             // key type
	partScopes           // scopes joined by single spaces
	partExternal         // the product's id for the key's customer
	partLimits           // the named rate limits, limitEntry bytes each (see appendLimit)
	partAllow            // the allowlist, allowEntry bytes per prefix (see appendAllow)
	numParts
)

const bodyPrefix = `{"valid":true,"key":`

func (e *entry) part(i int) string {
	start := uint32(0)
	if i > 0 {
		start = e.ends[i-1]
	}
	end := uint32(len(e.data))
	if i < numParts-1 {
		end = e.ends[i]
	}
	return e.data[start:end]
}

func (e *entry) id() string { return e.part(partID) }

func (e *entry) environment() latchkey.Environment {
	if e.demo {
		return latchkey.Demo
	}
	return latchkey.Production
}

// keyView is the key object of the verify answer, in the documented order.
type keyView struct {
	ID          string               `json:"id"`
	WorkspaceID string               `json:"workspace_id"`
	Name        string               `json:"name"`
	Type        string               `json:"type"`
	Environment latchkey.Environment `json:"environment"`
	Owner       string               `json:"owner"`
	Scopes      []string             `json:"scopes"`
	Settings    map[string]any       `json:"settings"`
	ExpiresAt   *time.Time           `json:"expires_at"`
	ExternalID  string               `json:"external_id,omitempty"`
	Meta        json.RawMessage      `json:"meta,omitempty"`
}

// newEntry encodes k once, on the cold path, so every warm answer is a copy.
func newEntry(k *latchkey.Key) (entry, error) {
	view := keyView{k.ID, k.WorkspaceID, k.Name, k.Type, k.Environment, k.Owner, k.Scopes, k.Settings, k.ExpiresAt,
		k.ExternalID, k.Meta}
	if view.Scopes == nil {
		view.Scopes = []string{}
	}
	if view.Settings == nil {
		view.Settings = map[string]any{}
	}
	js, err := json.Marshal(view)
	if err != nil {
		return entry{}, err
	}
	var b strings.Builder
	b.Grow(len(bodyPrefix) + len(js) + 1 + len(k.ID) + len(k.WorkspaceID) + len(k.Owner) + len(k.Type) + 16*len(k.Scopes) + len(k.ExternalID))
	e := entry{hash: k.Hash, expires: math.MaxInt64, prevExpires: math.MinInt64,
		revoked: k.RevokedAt != nil, disabled: k.DisabledAt != nil, ownerActive: k.OwnerActive, demo: k.Environment == latchkey.Demo}
	b.WriteString(bodyPrefix)
	b.Write(js)
	b.WriteByte('}')
	e.ends[partBody] = uint32(b.Len())
	for i, s := range []string{k.ID, k.WorkspaceID, k.Owner, k.Type} {
		b.WriteString(s)
		e.ends[partID+i] = uint32(b.Len())
	}
	for i, s := range k.Scopes {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(s)
	}
	b.Grow(allowEntry * len(k.AllowedIPs))
	prefixes, err := latchkey.AllowedPrefixes(k.AllowedIPs)
	if err != nil {
		// A stored allowlist the domain cannot read: the lookup fails
		// (503) rather than let the key through from anywhere.
		return entry{}, fmt.Errorf("key %s: allowlist: %w", k.ID, err)
	}
	e.ends[partScopes] = uint32(b.Len())
	b.WriteString(k.ExternalID)
	e.ends[partExternal] = uint32(b.Len())
	for _, l := range k.RateLimits {
		appendLimit(&b, l)
	}
	e.ends[partLimits] = uint32(b.Len())
	for _, p := range prefixes {
		appendAllow(&b, p)
	}
	e.bound = len(prefixes) > 0
	e.data = b.String()
	if k.ExpiresAt != nil {
		e.expires = unixNano(*k.ExpiresAt)
	}
	if k.PreviousHash != nil {
		e.hasPrev, e.prev = true, *k.PreviousHash
		if k.PreviousExpiresAt != nil {
			e.prevExpires = unixNano(*k.PreviousExpiresAt)
		}
	}
	if c := k.Credits; c != nil {
		e.credits = true
		if c.Refill != nil {
			e.creditAmount = c.Refill.Amount
			e.creditInterval = map[latchkey.RefillInterval]uint8{latchkey.RefillDaily: 1, latchkey.RefillMonthly: 2}[c.Refill.Interval]
		}
	}
	if k.RateLimit != nil && k.RateLimit.Limit > 0 && k.RateLimit.Period > 0 {
		e.rateLimit = int32(min(k.RateLimit.Limit, math.MaxInt32))
		e.ratePeriod = int64(k.RateLimit.Period)
	}
	return e, nil
}

// unixNano clamps times outside int64 nanoseconds (years before 1678 or
// after 2262) instead of letting them wrap around.
func unixNano(t time.Time) int64 {
	switch s := t.Unix(); {
	case s >= math.MaxInt64/int64(time.Second):
		return math.MaxInt64
	case s <= math.MinInt64/int64(time.Second):
		return math.MinInt64
	}
	return t.UnixNano()
}

// allowEntry is the size of one allowlist prefix in entry.data: the
// address as 16 bytes, the prefix length, and 4 or 6 for the family. Kept
// as bytes of the entry's one string rather than a []netip.Prefix, so the
// cache entry gains no pointer (netip.Addr holds one for IPv6 zones).
const allowEntry = 18

func appendAllow(b *strings.Builder, p netip.Prefix) {
	a := p.Addr().As16()
	b.Write(a[:])
	family := byte(6)
	if p.Addr().Is4() {
		family = 4
	}
	b.WriteByte(byte(p.Bits()))
	b.WriteByte(family)
}

// allows reports whether addr is inside one of the encoded prefixes. It
// does not allocate. An IPv6 prefix never holds an IPv4 address, nor the
// reverse, as with netip.Prefix.Contains; IPv4-mapped addresses count as
// IPv4. The zero Addr (the caller's address is unknown) is in none.
func allows(list string, addr netip.Addr) bool {
	if !addr.IsValid() {
		return false
	}
	addr = addr.Unmap()
	family := byte(6)
	bias := 0
	if addr.Is4() {
		family, bias = 4, 96 // As16 maps IPv4 into ::ffff:0:0/96
	}
	a := addr.As16()
	for ; len(list) >= allowEntry; list = list[allowEntry:] {
		if list[17] != family {
			continue
		}
		if prefixHolds(list[:16], &a, int(list[16])+bias) {
			return true
		}
	}
	return false
}

func prefixHolds(p string, a *[16]byte, bits int) bool {
	i := 0
	for ; bits >= 8; bits, i = bits-8, i+1 {
		if p[i] != a[i] {
			return false
		}
	}
	if bits == 0 {
		return true
	}
	mask := byte(0xff) << (8 - bits)
	return p[i]&mask == a[i]&mask
}

// budgeted reports whether verifications of the key spend from budgets
// leased from the store (credits or named limits).
func (e *entry) budgeted() bool { return e.credits || e.ends[partLimits] != e.ends[partLimits-1] }

// creditBudget is the lease rule of the key's credits.
func (e *entry) creditBudget() latchkey.Budget {
	b := latchkey.Budget{Name: latchkey.CreditsBudget, Amount: e.creditAmount}
	switch e.creditInterval {
	case 1:
		b.Interval = latchkey.RefillDaily
	case 2:
		b.Interval = latchkey.RefillMonthly
	}
	return b
}

// appendLimit encodes a named limit in entry.data: the name's length in
// one byte, the name, then the limit and the window in nanoseconds as
// 8 bytes each (big-endian). Names are at most 32 bytes (ValidLimitName).
func appendLimit(b *strings.Builder, l latchkey.NamedLimit) {
	if len(l.Name) > 255 {
		return // never valid (ValidLimitName); not worth a failed lookup
	}
	b.WriteByte(byte(len(l.Name)))
	b.WriteString(l.Name)
	var n [16]byte
	binary.BigEndian.PutUint64(n[:8], uint64(l.Limit))
	binary.BigEndian.PutUint64(n[8:], uint64(l.Duration))
	b.Write(n[:])
}

// nextLimit decodes the first limit of list (part partLimits) and returns
// the rest; ok is false at the end.
func nextLimit(list string) (b latchkey.Budget, rest string, ok bool) {
	if list == "" {
		return b, "", false
	}
	n := int(list[0])
	if len(list) < 1+n+16 {
		return b, "", false
	}
	b.Name = list[1 : 1+n]
	b.Amount = int64(be64(list[1+n:]))
	b.Every = time.Duration(be64(list[9+n:]))
	return b, list[17+n:], true
}

// be64 reads 8 big-endian bytes of s without converting it to a slice.
func be64(s string) uint64 {
	var v uint64
	for i := range 8 {
		v = v<<8 | uint64(s[i])
	}
	return v
}
