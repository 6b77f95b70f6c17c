// Package id makes the identifiers of latchkey's objects: a type prefix and
// a ULID ("key_01JD…"), so ids sort by creation time and say what they name.
package id

import (
	"crypto/rand"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/oklog/ulid/v2"
)

// Prefixes of the object kinds.
const (
	Workspace = "ws"
	User      = "usr"
	Key       = "key"
	Event     = "evt"
	Mail      = "mail"
)

// Generator makes ids from an injected clock and source of randomness, so
// tests can make them deterministic.
type Generator struct {
	mu      sync.Mutex
	now     func() time.Time
	entropy io.Reader
}

// NewGenerator returns a Generator; nil arguments mean the real clock and crypto/rand.
func NewGenerator(now func() time.Time, r io.Reader) *Generator {
	if now == nil {
		now = time.Now
	}
	if r == nil {
		r = rand.Reader
	}
	return &Generator{now: now, entropy: ulid.Monotonic(r, 0)}
}

// New returns a fresh id with the given prefix.
func (g *Generator) New(prefix string) string {
	g.mu.Lock()
	defer g.mu.Unlock()
	u := ulid.MustNew(ulid.Timestamp(g.now()), g.entropy)
	return prefix + "_" + u.String()
}

// Valid reports whether s is an id of the given kind. Handlers check ids
// before they reach a store so that junk answers 404 without a query.
func Valid(prefix, s string) bool {
	rest, ok := strings.CutPrefix(s, prefix+"_")
	if !ok || len(rest) != ulid.EncodedSize {
		return false
	}
	_, err := ulid.ParseStrict(rest)
	return err == nil
}
