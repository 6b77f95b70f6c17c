package sealed

import (
	"bytes"
	"testing"
)

func TestSealOpen(t *testing.T) {
	key := bytes.Repeat([]byte{1}, KeySize)
	b, err := New(key)
	if err != nil {
		t.Fatal(err)
	}
	sealed := b.Seal([]byte("client-secret"), "sso:ws_a")
	if bytes.Contains(sealed, []byte("client-secret")) {
		t.Fatal("sealed value holds the plain text")
	}
	again, _ := New(key)
	got, err := again.Open(sealed, "sso:ws_a")
	if err != nil || string(got) != "client-secret" {
		t.Fatalf("Open: got %q, %v, want client-secret", got, err)
	}
	if _, err := again.Open(sealed, "sso:ws_b"); err != ErrOpen {
		t.Fatalf("Open bound to another row: got %v, want ErrOpen", err)
	}
	sealed[len(sealed)-1] ^= 1
	if _, err := again.Open(sealed, "sso:ws_a"); err != ErrOpen {
		t.Fatalf("Open altered: got %v, want ErrOpen", err)
	}
	other, _ := New(bytes.Repeat([]byte{7}, KeySize))
	if _, err := other.Open(b.Seal([]byte("x"), "t"), "t"); err != ErrOpen {
		t.Fatalf("Open with another key: got %v, want ErrOpen", err)
	}
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("New(short key): got nil error")
	}
	if _, err := New(); err == nil {
		t.Fatal("New(): got nil error")
	}
}

// A keyring that gained a key in front still opens what the old key
// sealed, and seals under its first key.
func TestKeyringOpensOlderKeys(t *testing.T) {
	oldKey, newKey := bytes.Repeat([]byte{1}, KeySize), bytes.Repeat([]byte{2}, KeySize)
	old, _ := New(oldKey)
	sealedBefore := old.Seal([]byte("seed"), "totp:u1")
	ring, err := New(newKey, oldKey)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := ring.Open(sealedBefore, "totp:u1"); err != nil || string(got) != "seed" {
		t.Fatalf("Open an old value: got %q, %v, want seed", got, err)
	}
	onlyNew, _ := New(newKey)
	if got, err := onlyNew.Open(ring.Seal([]byte("x"), "t"), "t"); err != nil || string(got) != "x" {
		t.Fatalf("the ring seals under its first key: got %q, %v", got, err)
	}
}
