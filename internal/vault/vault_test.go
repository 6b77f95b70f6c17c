package vault_test

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/vault"
)

func newRing(t *testing.T, urls ...string) *vault.Keyring {
	t.Helper()
	k, err := vault.New(context.Background(), vault.Options{}, urls...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	return k
}

func localURL(t *testing.T) string {
	t.Helper()
	u, err := vault.NewLocalURL(nil)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestSealOpen(t *testing.T) {
	ctx := context.Background()
	k := newRing(t, localURL(t))
	value := []byte("lk_prod_the-secret-value")
	aad := vault.AAD("ws_1", "vlt_1", "sec_1")
	s, err := k.Seal(ctx, aad, value)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s.Ciphertext, value) || bytes.Contains(s.WrappedKey, value) {
		t.Fatal("the sealed form holds the value in clear")
	}
	got, err := k.Open(ctx, s, aad)
	if err != nil || !bytes.Equal(got, value) {
		t.Fatalf("Open = %q, %v; want %q", got, err, value)
	}
	// Two seals of one value share nothing: fresh data key and nonce.
	s2, _ := k.Seal(ctx, aad, value)
	if bytes.Equal(s.Ciphertext, s2.Ciphertext) || bytes.Equal(s.WrappedKey, s2.WrappedKey) {
		t.Fatal("two seals of the same value are equal")
	}
}

// TestMovedCiphertextFails is the attack of a database writer who copies
// a sealed secret into another row to reveal it there.
func TestMovedCiphertextFails(t *testing.T) {
	ctx := context.Background()
	k := newRing(t, localURL(t))
	s, err := k.Seal(ctx, vault.AAD("ws_a", "vlt_a", "sec_a"), []byte("value"))
	if err != nil {
		t.Fatal(err)
	}
	for name, aad := range map[string][]byte{
		"other workspace": vault.AAD("ws_b", "vlt_a", "sec_a"),
		"other vault":     vault.AAD("ws_a", "vlt_b", "sec_a"),
		"other secret":    vault.AAD("ws_a", "vlt_a", "sec_b"),
		"shifted ids":     vault.AAD("ws_a\x00vlt", "a", "sec_a"),
	} {
		if _, err := k.Open(ctx, s, aad); !errors.Is(err, vault.ErrOpen) {
			t.Errorf("%s: Open err = %v, want ErrOpen", name, err)
		}
	}
	bad := s
	bad.Ciphertext = bytes.Clone(s.Ciphertext)
	bad.Ciphertext[len(bad.Ciphertext)-1] ^= 1
	if _, err := k.Open(ctx, bad, vault.AAD("ws_a", "vlt_a", "sec_a")); !errors.Is(err, vault.ErrOpen) {
		t.Errorf("altered ciphertext: err = %v, want ErrOpen", err)
	}
	short := s
	short.Ciphertext = s.Ciphertext[:5]
	if _, err := k.Open(ctx, short, vault.AAD("ws_a", "vlt_a", "sec_a")); !errors.Is(err, vault.ErrOpen) {
		t.Errorf("short ciphertext: err = %v, want ErrOpen", err)
	}
	// A data key from another secret does not open this one.
	other, _ := k.Seal(ctx, vault.AAD("ws_a", "vlt_a", "sec_a"), []byte("other"))
	swapped := s
	swapped.WrappedKey = other.WrappedKey
	if _, err := k.Open(ctx, swapped, vault.AAD("ws_a", "vlt_a", "sec_a")); !errors.Is(err, vault.ErrOpen) {
		t.Errorf("swapped data key: err = %v, want ErrOpen", err)
	}
}

func TestRewrapKeepsValue(t *testing.T) {
	ctx := context.Background()
	oldURL, newURL := localURL(t), localURL(t)
	k := newRing(t, oldURL)
	aad := vault.AAD("w", "v", "s")
	s, _ := k.Seal(ctx, aad, []byte("value"))
	newID, err := k.Add(ctx, newURL, true)
	if err != nil {
		t.Fatal(err)
	}
	r, err := k.Rewrap(ctx, s, "")
	if err != nil {
		t.Fatal(err)
	}
	if r.KeeperID != newID || !bytes.Equal(r.Ciphertext, s.Ciphertext) {
		t.Fatalf("rewrapped to %s, want %s with the same ciphertext", r.KeeperID, newID)
	}
	// Only the new keeper is needed now.
	only := newRing(t, newURL)
	if got, err := only.Open(ctx, r, aad); err != nil || string(got) != "value" {
		t.Fatalf("open with the new keeper alone = %q, %v", got, err)
	}
	if _, err := only.Open(ctx, s, aad); err == nil {
		t.Fatal("the new keeper alone opened a data key of the old one")
	}
}

// TestSourceTeachesKeepers: a server learns a rotation's keeper and the
// new current one from its source, without a restart.
func TestSourceTeachesKeepers(t *testing.T) {
	ctx := context.Background()
	oldURL, newURL := localURL(t), localURL(t)
	var urls []string
	current := ""
	k, err := vault.New(ctx, vault.Options{Refresh: 1, Source: func(context.Context) ([]string, string, error) {
		return urls, current, nil
	}}, oldURL)
	if err != nil {
		t.Fatal(err)
	}
	defer k.Close()
	other := newRing(t, newURL)
	s, _ := other.Seal(ctx, vault.AAD("w", "v", "s"), []byte("x"))
	if _, err := k.Open(ctx, s, vault.AAD("w", "v", "s")); err == nil {
		t.Fatal("opened with an unknown keeper")
	}
	urls, current = []string{oldURL, newURL}, vault.KeeperID(newURL)
	if got, err := k.Open(ctx, s, vault.AAD("w", "v", "s")); err != nil || string(got) != "x" {
		t.Fatalf("after the source told: %q, %v", got, err)
	}
	if id, _ := k.Current(ctx); id != vault.KeeperID(newURL) {
		t.Fatalf("current = %s, want the source's %s", id, vault.KeeperID(newURL))
	}
}

func TestBadURLsNeverEchoKeys(t *testing.T) {
	ctx := context.Background()
	for _, u := range []string{"base64key://c2hvcnQ=", "base64key://", "nosuch://x", "not a url", "base64key://%zz"} {
		_, err := vault.New(ctx, vault.Options{}, u)
		if err == nil {
			t.Errorf("%q: no error", u)
			continue
		}
		if strings.Contains(err.Error(), "c2hvcnQ") {
			t.Errorf("%q: error repeats the key: %v", u, err)
		}
	}
}

func TestKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), vault.KeyFile)
	urls, err := vault.EnsureKeyFile(path, nil)
	if err != nil || len(urls) != 1 {
		t.Fatalf("EnsureKeyFile = %v, %v", urls, err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 {
		t.Fatalf("mode %v, want 0600", st.Mode().Perm())
	}
	again, err := vault.EnsureKeyFile(path, nil)
	if err != nil || again[0] != urls[0] {
		t.Fatalf("second start made another key: %v, %v", again, err)
	}
	next, _ := vault.NewLocalURL(nil)
	if err := vault.AppendKeyFile(path, next); err != nil {
		t.Fatal(err)
	}
	if got, _ := vault.ReadKeyFile(path); len(got) != 2 || got[1] != next {
		t.Fatalf("after append: %d urls", len(got))
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.EnsureKeyFile(path, nil); err == nil {
		t.Fatal("a world-readable key file was accepted")
	}
}
