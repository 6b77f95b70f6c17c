package sealed

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "master.key")
	b, err := LoadOrCreate(path)
	if err != nil {
		t.Fatal(err)
	}
	sealed := b.Seal([]byte("client-secret"), "sso:ws_a")
	if bytes.Contains(sealed, []byte("client-secret")) {
		t.Fatal("sealed value holds the plain text")
	}
	again, err := LoadOrCreate(path) // the file is read back, not replaced
	if err != nil {
		t.Fatal(err)
	}
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
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("master key file mode: got %v, want 0600", fi.Mode().Perm())
	}
	if _, err := New([]byte("short")); err == nil {
		t.Fatal("New(short key): got nil error")
	}
}
