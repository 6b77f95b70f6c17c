package verify

import (
	"hash/maphash"
	"sync"
	"sync/atomic"

	"github.com/latchkey/latchkey"
)

type ownerKey struct{ workspace, user string }

// cache maps token hashes to entries. The maps from hashes hold slot
// numbers, not entries, so the biggest map has no pointers for the garbage
// collector to scan; both the current and the previous hash of a key point
// at its one slot.
//
// byHash is keyed by a hash's first 8 bytes, not all 32: a third of the
// size, so that with a million keys more of it stays in the processor's
// caches, and a cheaper key to hash. The slot's own hashes settle whether
// a lookup matches; the rare hash whose prefix another cached hash already
// holds goes into clash.
type cache struct {
	mu     sync.RWMutex
	byHash map[uint64]int32
	clash  map[[32]byte]int32
	slots  []entry
	free   []int32
	hand   int // next slot to evict once full: round robin, O(1)
	// byID is keyed by a hash of the key's id, for the same reason as
	// byHash and so that it holds no pointers either; the rare id whose
	// hash another cached id already holds goes into idClash.
	byID    map[uint64]int32
	idClash map[string]int32
	idSeed  maphash.Seed
	byOwner map[ownerKey][]int32    // personal keys only
	full    map[int32]*latchkey.Key // for Authenticate: the few management and SCIM keys
	neg     map[[32]byte]struct{}   // hashes the store does not know
	max     int
	negMax  int
	gen     atomic.Uint64 // bumped under mu by every invalidation
}

func newCache(size, negSize int) *cache {
	return &cache{
		byHash:  make(map[uint64]int32),
		clash:   make(map[[32]byte]int32),
		byID:    make(map[uint64]int32),
		idClash: make(map[string]int32),
		idSeed:  maphash.MakeSeed(),
		byOwner: make(map[ownerKey][]int32),
		full:    make(map[int32]*latchkey.Key),
		neg:     make(map[[32]byte]struct{}),
		max:     size,
		negMax:  negSize,
	}
}

type hit uint8

const (
	miss hit = iota
	found
	unknown // negative entry: the store said ENOTFOUND
)

// get copies the entry for h out under the read lock; the copy stays
// consistent however the slot is reused afterwards.
func (c *cache) get(h *[32]byte, e *entry, full **latchkey.Key) hit {
	c.mu.RLock()
	i, ok := c.find(h)
	if ok {
		*e = c.slots[i]
		if full != nil {
			*full = c.full[i]
		}
		c.mu.RUnlock()
		return found
	}
	_, neg := c.neg[*h]
	c.mu.RUnlock()
	if neg {
		return unknown
	}
	return miss
}

// find returns the slot cached under h; c.mu is held.
func (c *cache) find(h *[32]byte) (int32, bool) {
	if i, ok := c.byHash[prefix(h)]; ok {
		if s := &c.slots[i]; s.hash == *h || s.hasPrev && s.prev == *h {
			return i, true
		}
	}
	if len(c.clash) == 0 {
		return 0, false
	}
	i, ok := c.clash[*h]
	return i, ok
}

// index points h at slot i; c.mu is held.
func (c *cache) index(h *[32]byte, i int32) {
	p := prefix(h)
	if _, taken := c.byHash[p]; !taken {
		c.byHash[p] = i
		return
	}
	c.clash[*h] = i
}

// unindex removes h's pointer at slot i, if it has one; c.mu is held.
func (c *cache) unindex(h *[32]byte, i int32) {
	if j, ok := c.clash[*h]; ok && j == i {
		delete(c.clash, *h)
		return
	}
	p := prefix(h)
	if j, ok := c.byHash[p]; ok && j == i {
		delete(c.byHash, p)
	}
}

// findID returns the slot of the key id; c.mu is held.
func (c *cache) findID(id string) (int32, bool) {
	if i, ok := c.byID[maphash.String(c.idSeed, id)]; ok && c.slots[i].id() == id {
		return i, true
	}
	if len(c.idClash) == 0 {
		return 0, false
	}
	i, ok := c.idClash[id]
	return i, ok
}

// indexID points id at slot i; c.mu is held.
func (c *cache) indexID(id string, i int32) {
	h := maphash.String(c.idSeed, id)
	if _, taken := c.byID[h]; !taken {
		c.byID[h] = i
		return
	}
	c.idClash[id] = i
}

// unindexID removes id's pointer at slot i, if it has one; c.mu is held.
func (c *cache) unindexID(id string, i int32) {
	if j, ok := c.idClash[id]; ok && j == i {
		delete(c.idClash, id)
		return
	}
	h := maphash.String(c.idSeed, id)
	if j, ok := c.byID[h]; ok && j == i {
		delete(c.byID, h)
	}
}

// generation is read before a store lookup; put and putUnknown refuse to
// store what the lookup found if an invalidation ran in between, because the
// lookup may have read the row before the change it was invalidated for.
func (c *cache) generation() uint64 { return c.gen.Load() }

func (c *cache) put(gen uint64, e entry, full *latchkey.Key) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen.Load() {
		return
	}
	if old, ok := c.findID(e.id()); ok {
		c.remove(old)
	}
	if len(c.free) == 0 && len(c.slots) < c.max {
		c.slots = append(c.slots, entry{})
		c.free = append(c.free, int32(len(c.slots)-1))
	}
	for len(c.free) == 0 {
		c.hand %= len(c.slots)
		c.remove(int32(c.hand))
		c.hand++
	}
	i := c.free[len(c.free)-1]
	c.free = c.free[:len(c.free)-1]
	c.slots[i] = e
	c.index(&e.hash, i)
	if e.hasPrev {
		c.index(&e.prev, i)
	}
	c.indexID(e.id(), i)
	if owner := e.part(partOwner); owner != latchkey.OwnerWorkspace {
		k := ownerKey{e.part(partWorkspace), owner}
		c.byOwner[k] = append(c.byOwner[k], i)
	}
	if full != nil {
		c.full[i] = full
	}
}

func (c *cache) putUnknown(gen uint64, h [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen != c.gen.Load() || c.negMax <= 0 {
		return
	}
	if len(c.neg) >= c.negMax {
		// Any victim will do: map iteration starts at a random place.
		for k := range c.neg {
			delete(c.neg, k)
			break
		}
	}
	c.neg[h] = struct{}{}
}

// remove empties slot i and pushes it on the free list; c.mu is held.
func (c *cache) remove(i int32) {
	e := &c.slots[i]
	if e.data == "" {
		return
	}
	if e.hasPrev {
		c.unindex(&e.prev, i)
	}
	c.unindex(&e.hash, i)
	c.unindexID(e.id(), i)
	if owner := e.part(partOwner); owner != latchkey.OwnerWorkspace {
		k := ownerKey{e.part(partWorkspace), owner}
		s := c.byOwner[k]
		for n, j := range s {
			if j == i {
				s[n] = s[len(s)-1]
				s = s[:len(s)-1]
				break
			}
		}
		if len(s) == 0 {
			delete(c.byOwner, k)
		} else {
			c.byOwner[k] = s
		}
	}
	delete(c.full, i)
	*e = entry{}
	c.free = append(c.free, i)
}

func (c *cache) invalidateKey(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	if i, ok := c.findID(id); ok {
		c.remove(i)
	}
}

func (c *cache) invalidateOwner(workspace, user string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	// remove edits the slice, so walk a copy.
	for _, i := range append([]int32(nil), c.byOwner[ownerKey{workspace, user}]...) {
		c.remove(i)
	}
}

func (c *cache) invalidateAll() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen.Add(1)
	clear(c.byHash)
	clear(c.clash)
	clear(c.byID)
	clear(c.idClash)
	clear(c.byOwner)
	clear(c.full)
	clear(c.neg)
	c.slots, c.free, c.hand = nil, nil, 0
}

func (c *cache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.byID) + len(c.idClash)
}
