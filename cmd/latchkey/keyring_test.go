package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey/internal/token"
	"github.com/latchkey/latchkey/internal/vault"
)

// runUntilStopped serves cfg and returns a function that stops it.
func runUntilStopped(t *testing.T, cfg Config) (*Main, func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m, err := NewMain(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("NewMain: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Main.Run: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Main.Close: %v", err)
		}
	}
	t.Cleanup(stop)
	return m, stop
}

// TestOldDataDirOpensAfterKeyringMerge: a data directory of the layout
// with two master key files (the vaults' vault-master.key and master.key,
// one bare base64 key, sealing authenticator seeds) each holding a
// different key still opens its vault secrets and TOTP seeds once its
// files are merged into one keyring on start, and again on the next start.
func TestOldDataDirOpensAfterKeyringMerge(t *testing.T) {
	s := initStore(t)
	vaultKey, sealKey := make([]byte, 32), make([]byte, 32)
	rand.Read(vaultKey)
	rand.Read(sealKey)
	keyring := filepath.Join(s.DataDir, "master.key")
	if err := os.WriteFile(keyring, []byte(vault.LocalURL(sealKey)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		DataDir: s.DataDir, Addr: "127.0.0.1:0", OwnerEmail: s.OwnerEmail, TokenPrefix: token.DefaultPrefix,
		Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard, FlushEvery: 50 * time.Millisecond, ShutdownGrace: 5 * time.Second,
	}
	// The first server wraps vault data keys with vaultKey and seals the
	// authenticator seed with sealKey, as the two files did.
	first := cfg
	first.VaultKeyURLs = []string{vault.LocalURL(vaultKey)}
	m, stop := runUntilStopped(t, first)
	s.URL = m.URL()
	hc := s.login(t)
	ws := s.URL + "/v1/workspaces/" + s.WorkspaceID
	v := send(t, hc, "POST", ws+"/vaults", `{"name":"Team"}`)
	if v.status != http.StatusCreated {
		t.Fatalf("POST vaults: %d %s", v.status, v.raw)
	}
	sec := send(t, hc, "POST", ws+"/vaults/"+v.body["id"].(string)+"/secrets", `{"name":"db","value":"kept-across-the-merge-41"}`)
	if sec.status != http.StatusCreated {
		t.Fatalf("POST secrets: %d %s", sec.status, sec.raw)
	}
	reveal := ws + "/vaults/" + v.body["id"].(string) + "/secrets/" + sec.body["id"].(string) + "/reveal"
	seed := enrolTOTP(t, hc, s.URL)
	stop()

	// The old layout: two files, the seal key bare.
	if err := os.WriteFile(keyring, []byte(base64.StdEncoding.EncodeToString(sealKey)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	legacy := filepath.Join(s.DataDir, "vault-master.key")
	if err := os.WriteFile(legacy, []byte(vault.LocalURL(vaultKey)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	// A backup of the old layout carries both files; its restore opens
	// too. Round 0 starts the old data directory, round 1 the restored
	// copy, round 2 the restored copy again (merged already).
	file := filepath.Join(t.TempDir(), "old.db")
	var out, errb bytes.Buffer
	if code := run([]string{"backup", "--data-dir", s.DataDir, "--out", file}, &out, &errb); code != 0 {
		t.Fatalf("backup: exit %d: %s", code, errb.String())
	}
	for _, name := range []string{"master.key", "vault-master.key"} {
		if _, err := os.Stat(file + "." + name); err != nil {
			t.Fatalf("the backup did not copy %s: %v", name, err)
		}
	}
	restored := t.TempDir()
	if code := run([]string{"restore", "--data-dir", restored, "--from", file}, &out, &errb); code != 0 {
		t.Fatalf("restore: exit %d: %s", code, errb.String())
	}

	for round, skew := range []time.Duration{30 * time.Second, 60 * time.Second, 90 * time.Second} {
		at := time.Now().Add(skew)
		next := cfg
		next.Now = func() time.Time { return time.Now().Add(skew) } // a new TOTP step is current each round
		if round > 0 {
			next.DataDir = restored
			keyring, legacy = filepath.Join(restored, "master.key"), filepath.Join(restored, "vault-master.key")
		}
		m, stop := runUntilStopped(t, next)
		s.URL = m.URL()
		ws = strings.Replace(ws, ws[:strings.Index(ws, "/v1/")], s.URL, 1)
		reveal = strings.Replace(reveal, reveal[:strings.Index(reveal, "/v1/")], s.URL, 1)
		jar, _ := cookiejar.New(nil)
		hc = &http.Client{Jar: jar, Timeout: 10 * time.Second}
		got := send(t, hc, "POST", s.URL+"/v1/auth/login", map[string]string{"email": s.OwnerEmail, "password": s.OwnerPassword})
		if got.status != http.StatusAccepted || got.body["pending"] != "second_factor" {
			t.Fatalf("round %d: login: %d %s, want 202 second_factor", round, got.status, got.raw)
		}
		code, _ := totp.GenerateCode(seed, at) // a later step: each is good once
		if got = send(t, hc, "POST", s.URL+"/v1/auth/second-factor", map[string]string{"code": code}); got.status != http.StatusOK {
			t.Fatalf("round %d: the TOTP seed sealed before the merge: second factor %d %s", round, got.status, got.raw)
		}
		got = send(t, hc, "POST", reveal, `{"reason":"checking the keyring merge"}`)
		if got.status != http.StatusOK || !bytes.Contains(got.raw, []byte("kept-across-the-merge-41")) {
			t.Fatalf("round %d: reveal a secret wrapped before the merge: %d %s", round, got.status, got.raw)
		}
		stop()
		b, err := os.ReadFile(keyring)
		if err != nil {
			t.Fatal(err)
		}
		want := vault.LocalURL(vaultKey) + "\n" + vault.LocalURL(sealKey) + "\n"
		if string(b) != want {
			t.Fatalf("round %d: the keyring holds %q, want the vaults' key then the seal key", round, b)
		}
		if _, err := os.Stat(legacy); !os.IsNotExist(err) {
			t.Fatalf("round %d: vault-master.key is still in use: %v", round, err)
		}
		if _, err := os.Stat(legacy + ".merged"); err != nil {
			t.Fatalf("round %d: the old vault key file is not kept: %v", round, err)
		}
	}
}

// TestNoKeyringInTheCurrentDirectory: without a data directory (as on
// PostgreSQL) and without --master-key-file the server refuses to start
// rather than writing a master key where it happens to run.
func TestNoKeyringInTheCurrentDirectory(t *testing.T) {
	_, _, err := SignInConfig{}.signIn("", "postgres://example.invalid/db")
	if err == nil || !strings.Contains(err.Error(), "--master-key-file") {
		t.Fatalf("signIn without a data directory: got %v, want an error naming --master-key-file", err)
	}
	if _, err := os.Stat("master.key"); !os.IsNotExist(err) {
		t.Fatalf("a master key was written in the current directory: %v", err)
	}
}

// TestKeyringModes: the data directory's keyring must be private; a file
// given with --master-key-file (perhaps a mounted secret, mode 0644) is
// read as it is, and never rewritten when it holds the first format.
func TestKeyringModes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "master.key"), []byte(vault.LocalURL(make([]byte, 32))+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (SignInConfig{}).signIn(dir, ""); err == nil || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("signIn with a readable data-dir keyring: got %v, want a refusal naming chmod 600", err)
	}
	mounted := filepath.Join(t.TempDir(), "secret")
	old := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{9}, 32)) + "\n"
	if err := os.WriteFile(mounted, []byte(old), 0o444); err != nil {
		t.Fatal(err)
	}
	if _, _, err := (SignInConfig{MasterKeyFile: mounted}).signIn(t.TempDir(), "postgres://example.invalid/db"); err != nil {
		t.Fatalf("signIn with a read-only mounted keyring: %v", err)
	}
	if b, _ := os.ReadFile(mounted); string(b) != old {
		t.Fatalf("the mounted keyring was rewritten: %q", b)
	}
}
