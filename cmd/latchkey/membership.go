package main

import (
	"context"
	"encoding/hex"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/verify"
)

// membership configures the verifier's membership set: loaded from the
// store and, on PostgreSQL, fenced through the invalidation channel, where
// every instance announces the secrets it writes (see onInvalidation).
func (m *Main) membership(store latchkey.Store) *verify.Membership {
	if m.cfg.DisableVerifyCache {
		return nil
	}
	mb := &verify.Membership{Hashes: store}
	if m.pg != nil {
		m.fences.instance = id.NewGenerator(nil, nil).New("fence")
		mb.Fence = m.fence
	}
	return mb
}

// knownPrefix adds a secret another instance (or this one) announced.
func (m *Main) knownPrefix(hexPrefix string) {
	var p [8]byte
	if n, err := hex.Decode(p[:], []byte(hexPrefix)); err != nil || n != len(p) {
		// Malformed: nothing to learn from it. The set is only a filter
		// in front of the store, and its next load repairs it.
		m.log.Warn("ignored a malformed key hash announcement")
		return
	}
	m.verifier.AddKnownPrefix(p)
}

// fences are the notifications this instance sent to itself and waits to
// receive: PostgreSQL delivers notifications in commit order, so once its
// own arrives, every secret announced by a transaction that committed
// before it was sent has been heard.
type fences struct {
	instance string
	seq      atomic.Uint64
	mu       sync.Mutex
	waiting  map[string]chan struct{}
}

func (m *Main) fence(ctx context.Context) error {
	f := &m.fences
	payload := "sync:" + f.instance + ":" + strconv.FormatUint(f.seq.Add(1), 10)
	ch := make(chan struct{})
	f.mu.Lock()
	if f.waiting == nil {
		f.waiting = make(map[string]chan struct{})
	}
	f.waiting[payload] = ch
	f.mu.Unlock()
	defer func() {
		f.mu.Lock()
		delete(f.waiting, payload)
		f.mu.Unlock()
	}()
	if err := m.pg.Notify(ctx, invalidationChannel, payload); err != nil {
		return err
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// arrived ends the fence whose notification this is; other instances'
// fences pass by.
func (f *fences) arrived(payload string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if ch, ok := f.waiting[payload]; ok {
		close(ch)
		delete(f.waiting, payload)
	}
}
