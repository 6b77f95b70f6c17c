package verify

import (
	"encoding/json"
	"math"
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
	hasPrev     bool
	revoked     bool
	ownerActive bool
	demo        bool
	verifiable  bool // the type is accepted when the request names none
}

// Parts of entry.data, in order.
const (
	partBody      = iota // {"valid":true,"key":{...}}
	partID               // key id
	partWorkspace        // workspace id
	partOwner            // "workspace" or a user id
	partType             // key type
	partScopes           // scopes joined by single spaces
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
}

// newEntry encodes k once, on the cold path, so every warm answer is a copy.
func newEntry(k *latchkey.Key) (entry, error) {
	view := keyView{k.ID, k.WorkspaceID, k.Name, k.Type, k.Environment, k.Owner, k.Scopes, k.Settings, k.ExpiresAt}
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
	b.Grow(len(bodyPrefix) + len(js) + 1 + len(k.ID) + len(k.WorkspaceID) + len(k.Owner) + len(k.Type) + 16*len(k.Scopes))
	e := entry{hash: k.Hash, expires: math.MaxInt64, prevExpires: math.MinInt64,
		revoked: k.RevokedAt != nil, ownerActive: k.OwnerActive, demo: k.Environment == latchkey.Demo}
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
