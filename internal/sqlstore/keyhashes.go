package sqlstore

import (
	"context"
	"fmt"
	"sync"

	"github.com/latchkey/latchkey"
)

// KeyHashes pages through every key's secret hashes in id order, for the
// verifier's membership set: only the two hash columns and the id are read.
func (s *Store) KeyHashes(ctx context.Context, after string, limit int) ([]latchkey.KeyHash, error) {
	if limit <= 0 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "limit must be positive")
	}
	rows, err := s.read.Query(ctx, `SELECT id, hash, previous_hash FROM keys WHERE id > ? ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, s.wrap(err, "key hashes")
	}
	defer rows.Close()
	out := make([]latchkey.KeyHash, 0, min(limit, 4096))
	for rows.Next() {
		var kh latchkey.KeyHash
		var hash, prev []byte
		if err := rows.Scan(&kh.ID, &hash, &prev); err != nil {
			return nil, s.wrap(err, "key hashes")
		}
		if len(hash) != 32 || (prev != nil && len(prev) != 32) {
			return nil, fmt.Errorf("key %s has a malformed hash", kh.ID)
		}
		kh.Hash = [32]byte(hash)
		if prev != nil {
			p := [32]byte(prev)
			kh.Previous = &p
		}
		out = append(out, kh)
	}
	if err := rows.Err(); err != nil {
		return nil, s.wrap(err, "key hashes")
	}
	return out, nil
}

// KeyHashAnnouncer is a DB whose other users (the other instances on one
// PostgreSQL database) learn of a new key secret at the commit of the
// transaction that writes it.
type KeyHashAnnouncer interface {
	AnnounceKeyHash(ctx context.Context, tx Conn, h [32]byte) error
}

// hashWatchers are the functions OnKeyHash registered.
type hashWatchers struct {
	mu  sync.RWMutex
	fns []func(h [32]byte)
}

// OnKeyHash registers fn to hear of every secret hash this store writes
// (a created key's, a reset key's new one), inside the writing
// transaction, before it commits: the verifier's membership set must know
// a hash before the call that created it returns, and knowing it early is
// harmless (the set only says which hashes are worth a store read).
func (s *Store) OnKeyHash(fn func(h [32]byte)) {
	s.watchers.mu.Lock()
	defer s.watchers.mu.Unlock()
	s.watchers.fns = append(s.watchers.fns, fn)
}

// announce tells the watchers, and through the database the other
// instances, of a hash written in tx.
func (s *Store) announce(ctx context.Context, tx Conn, h [32]byte) error {
	s.watchers.mu.RLock()
	for _, fn := range s.watchers.fns {
		fn(h)
	}
	s.watchers.mu.RUnlock()
	if a, ok := s.db.(KeyHashAnnouncer); ok {
		return a.AnnounceKeyHash(ctx, tx, h)
	}
	return nil
}
