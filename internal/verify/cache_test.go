package verify

import (
	"hash/maphash"
	"testing"

	"github.com/latchkey/latchkey"
)

// Hashes that share their first 8 bytes (the cache's map key) are told
// apart by the slot's whole hash, whichever of them is cached, dropped or
// cached again, and whether the shared prefix is another key's or the
// same key's previous secret.
func TestCacheHashesSharingAPrefix(t *testing.T) {
	hash := func(first, last byte) (h [32]byte) {
		h[0], h[31] = first, last
		return h
	}
	x, y, v := hash(1, 1), hash(1, 2), hash(1, 3) // one prefix
	z, w := hash(2, 1), hash(2, 2)                // one prefix: a key and its previous secret
	c := newCache(10, 10)
	put := func(id string, h [32]byte, prev *[32]byte) {
		t.Helper()
		e, err := newEntry(&latchkey.Key{ID: id, WorkspaceID: "ws", Owner: latchkey.OwnerWorkspace, Hash: h, PreviousHash: prev})
		if err != nil {
			t.Fatal(err)
		}
		c.put(c.generation(), e, nil)
	}
	want := func(h [32]byte, id string) {
		t.Helper()
		var e entry
		switch got := c.get(&h, &e, nil); {
		case id == "" && got != miss:
			t.Fatalf("hash %x…%x: got %v (key %q), want a miss", h[0], h[31], got, e.id())
		case id != "" && (got != found || e.id() != id):
			t.Fatalf("hash %x…%x: got %v (key %q), want key %q", h[0], h[31], got, e.id(), id)
		}
	}
	put("a", x, nil)
	put("b", y, nil)
	put("c", z, &w)
	want(x, "a")
	want(y, "b")
	want(z, "c")
	want(w, "c")
	want(v, "")

	c.invalidateKey("a") // the prefix's holder goes; the clash stays found
	want(x, "")
	want(y, "b")
	put("a", x, nil)
	want(x, "a")
	c.invalidateKey("b")
	want(y, "")
	want(x, "a")

	c.invalidateKey("c")
	want(z, "")
	want(w, "")
	put("c", w, &z) // reset again: the secrets swap roles
	want(z, "c")
	want(w, "c")
	c.forget(&z)
	want(w, "")
	if len(c.byHash) != 1 || len(c.clash) != 0 {
		t.Fatalf("after dropping all but one key: %d prefixes and %d clashes indexed, want 1 and 0", len(c.byHash), len(c.clash))
	}
}

// Two key ids whose hashes clash (played here by pointing b's hash at a's
// slot before b is cached): each is found, dropped and cached again on
// its own.
func TestCacheIDsSharingAHash(t *testing.T) {
	c := newCache(10, 10)
	put := func(id string, first byte) {
		t.Helper()
		var h [32]byte
		h[0] = first
		e, err := newEntry(&latchkey.Key{ID: id, WorkspaceID: "ws", Owner: latchkey.OwnerWorkspace, Hash: h})
		if err != nil {
			t.Fatal(err)
		}
		c.put(c.generation(), e, nil)
	}
	want := func(id string, cached bool) {
		t.Helper()
		c.mu.RLock()
		i, ok := c.findID(id)
		c.mu.RUnlock()
		if ok != cached || ok && c.slots[i].id() != id {
			t.Fatalf("findID(%q): slot %d, %v; want cached %v", id, i, ok, cached)
		}
	}
	put("a", 1)
	c.byID[maphash.String(c.idSeed, "b")] = c.byID[maphash.String(c.idSeed, "a")]
	put("b", 2)
	if len(c.idClash) != 1 {
		t.Fatalf("clashing ids: %d, want b's", len(c.idClash))
	}
	delete(c.byID, maphash.String(c.idSeed, "b")) // the stand-in clash has done its work
	want("a", true)
	want("b", true)
	c.invalidateKey("b")
	want("b", false)
	want("a", true)
	if len(c.idClash) != 0 || c.len() != 1 {
		t.Fatalf("after dropping b: %d clashes, %d keys; want 0 and 1", len(c.idClash), c.len())
	}
	put("b", 2)
	c.invalidateKey("a")
	want("a", false)
	want("b", true)
}
