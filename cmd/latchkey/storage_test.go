package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// requireOrSkip skips the test, or fails it under LATCHKEY_REQUIRE_ALL=1.
func requireOrSkip(t *testing.T, msg string) {
	t.Helper()
	if os.Getenv("LATCHKEY_REQUIRE_ALL") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
}

// tinyFilesystem mounts an 8 MiB tmpfs for the test, or skips when the
// test may not mount (it needs root, or CAP_SYS_ADMIN in a container).
func tinyFilesystem(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m,mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		requireOrSkip(t, fmt.Sprintf("cannot mount a tiny tmpfs for the disk-full test (needs root or CAP_SYS_ADMIN): %v %s", err, out))
	}
	t.Cleanup(func() {
		if out, err := exec.Command("umount", dir).CombinedOutput(); err != nil {
			t.Errorf("umount %s: %v %s", dir, err, out)
		}
	})
	return dir
}

// fill writes a file into dir until the filesystem is full.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := bytes.Repeat([]byte{0xa5}, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling the disk: %v", err)
			}
			break
		}
	}
	// The last partial pages too.
	for {
		if _, err := f.Write(chunk[:512]); err != nil {
			break
		}
	}
	return path
}

// TestDiskFullAnswersStorageUnavailable runs a SQLite store on a tiny
// filesystem and fills it: writes must answer 503 storage_unavailable (not
// an opaque 500), /readyz must say not ready, reads and verification must
// go on, and once space is freed a write succeeds and /readyz is ready.
func TestDiskFullAnswersStorageUnavailable(t *testing.T) {
	dir := tinyFilesystem(t)
	s := &testServer{DataDir: filepath.Join(dir, "data"), OwnerEmail: "owner@example.com", OwnerPassword: "Tabby-Lantern-Orbit-42"}
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(s.OwnerPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"init", "--data-dir", s.DataDir, "--workspace", "Acme", "--email", s.OwnerEmail, "--password-file", pwFile, "--json"}, &out, &errb); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errb.String())
	}
	var ids struct {
		WorkspaceID string `json:"workspace_id"`
	}
	if err := json.Unmarshal(out.Bytes(), &ids); err != nil {
		t.Fatal(err)
	}
	s.WorkspaceID = ids.WorkspaceID
	s.Main = serveDataDir(t, s)
	s.URL = s.Main.URL()
	hc := s.login(t)
	keys := s.URL + "/v1/workspaces/" + s.WorkspaceID + "/keys"
	got := send(t, hc, "POST", keys, map[string]any{"name": "before"})
	if got.status != http.StatusCreated {
		t.Fatalf("create before the disk fills: %d %s", got.status, got.raw)
	}
	secret := got.body["secret"].(string)
	if got := send(t, http.DefaultClient, "GET", s.URL+"/readyz", nil); got.status != http.StatusOK {
		t.Fatalf("/readyz before: got %d, want 200", got.status)
	}

	filler := fill(t, dir)
	// Writes may still land in space SQLite already holds (the WAL); keep
	// writing until one needs more. Every answer is a success or the
	// storage code, never a 500.
	var full exchange
	for i := 0; ; i++ {
		got := send(t, hc, "POST", keys, map[string]any{"name": fmt.Sprintf("while full %d with a longer name to use pages", i)})
		if got.status == http.StatusCreated {
			if i > 2000 {
				t.Fatal("2000 writes succeeded on a full disk")
			}
			continue
		}
		full = got
		break
	}
	expect(t, "a write on a full disk", full, http.StatusServiceUnavailable, "storage_unavailable")
	if got := send(t, http.DefaultClient, "GET", s.URL+"/readyz", nil); got.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz on a full disk after a failed write: got %d, want 503", got.status)
	}
	// Reads and the hot path do not need space.
	if got := send(t, hc, "GET", keys, nil); got.status != http.StatusOK {
		t.Errorf("a read on a full disk: got %d %s, want 200", got.status, got.raw)
	}
	if code := verifyOn(t, s.Main, secret); code != "" {
		t.Errorf("verify on a full disk: got %q, want valid", code)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for ctx.Err() == nil {
		if got := send(t, hc, "POST", keys, map[string]any{"name": "after"}); got.status == http.StatusCreated {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := send(t, http.DefaultClient, "GET", s.URL+"/readyz", nil); got.status != http.StatusOK {
		t.Errorf("/readyz once space is freed and a write succeeded: got %d, want 200", got.status)
	}
}

// TestReadOnlyDatabaseAnswersStorageUnavailable makes the PostgreSQL
// database read-only under a running instance (as a failover to a standby
// would): writes answer 503 storage_unavailable and /readyz is not ready
// until the database takes writes again and one succeeds.
func TestReadOnlyDatabaseAnswersStorageUnavailable(t *testing.T) {
	c := startCluster(t, 1, nil)
	m := c.mains[0]
	hc := c.login(t, m)
	keys := m.URL() + "/v1/workspaces/" + c.ws + "/keys"
	ctx := context.Background()
	setReadOnly := func(on bool) {
		t.Helper()
		stmt := "ALTER DATABASE " + c.db.Name + " RESET default_transaction_read_only"
		if on {
			stmt = "ALTER DATABASE " + c.db.Name + " SET default_transaction_read_only = on"
		}
		if _, err := c.db.Admin.Exec(ctx, stmt); err != nil {
			t.Fatal(err)
		}
		// The setting applies to new sessions: end the instance's.
		if _, err := c.db.Admin.Exec(ctx, "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()", c.db.Name); err != nil {
			t.Fatal(err)
		}
	}
	setReadOnly(true)
	var got exchange
	eventually(t, "a write on a read-only database answers storage_unavailable", 10*time.Second, func() bool {
		got = send(t, hc, "POST", keys, map[string]any{"name": "read-only"})
		if got.status == http.StatusCreated || got.status == http.StatusInternalServerError {
			t.Fatalf("a write on a read-only database: got %d %s", got.status, got.raw)
		}
		return got.errCode() == "storage_unavailable"
	})
	expect(t, "a write on a read-only database", got, http.StatusServiceUnavailable, "storage_unavailable")
	if got := send(t, http.DefaultClient, "GET", m.URL()+"/readyz", nil); got.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz after a refused write: got %d, want 503", got.status)
	}
	if got := send(t, hc, "GET", keys, nil); got.status != http.StatusOK {
		t.Errorf("a read on a read-only database: got %d %s, want 200", got.status, got.raw)
	}

	setReadOnly(false)
	eventually(t, "writes work again", 10*time.Second, func() bool {
		return send(t, hc, "POST", keys, map[string]any{"name": "writable"}).status == http.StatusCreated
	})
	if got := send(t, http.DefaultClient, "GET", m.URL()+"/readyz", nil); got.status != http.StatusOK {
		t.Errorf("/readyz after a successful write: got %d, want 200", got.status)
	}
}
