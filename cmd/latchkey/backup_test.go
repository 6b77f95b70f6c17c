package main

import (
	"bytes"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

type ackedKey struct{ id, secret string }

// TestBackupUnderWriteLoadRestoresEveryAcknowledgedWrite backs up a serving
// store from the host (another connection, as a second process would) while
// four clients keep creating keys, restores the backup into a new data
// directory and serves it: every key whose creation was answered before the
// backup began is there and verifies.
func TestBackupUnderWriteLoadRestoresEveryAcknowledgedWrite(t *testing.T) {
	s := startServer(t)
	hc := s.login(t)
	var mu sync.Mutex
	var acked []ackedKey
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				var out struct {
					Key    struct{ ID string } `json:"key"`
					Secret string              `json:"secret"`
				}
				in := map[string]any{"name": fmt.Sprintf("w%d-%d", w, i), "type": "public_api", "scopes": []string{"items:read"}, "expires_in": "30d"}
				if st := s.call(t, hc, http.MethodPost, "/v1/workspaces/"+s.WorkspaceID+"/keys", in, &out); st != http.StatusCreated {
					t.Errorf("creating a key under load: got %d", st)
					return
				}
				mu.Lock()
				acked = append(acked, ackedKey{out.Key.ID, out.Secret})
				mu.Unlock()
			}
		})
	}
	time.Sleep(400 * time.Millisecond)
	mu.Lock()
	before := append([]ackedKey(nil), acked...)
	mu.Unlock()
	file := filepath.Join(t.TempDir(), "latchkey-backup.db")
	var out, errb bytes.Buffer
	if code := run([]string{"backup", "--data-dir", s.DataDir, "--out", file}, &out, &errb); code != 0 {
		t.Fatalf("backup while serving: exit %d, stderr %q", code, errb.String())
	}
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(before) < 10 {
		t.Fatalf("only %d keys created before the backup: the load did not run", len(before))
	}

	// Restoring over the store the server has open is refused.
	out.Reset()
	errb.Reset()
	if code := run([]string{"restore", "--data-dir", s.DataDir, "--from", file, "--force"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "in use") {
		t.Errorf("restore over a serving store: exit %d, stderr %q; want 2 and 'in use'", code, errb.String())
	}

	restored := &testServer{DataDir: t.TempDir(), OwnerEmail: s.OwnerEmail, OwnerPassword: s.OwnerPassword, WorkspaceID: s.WorkspaceID}
	out.Reset()
	errb.Reset()
	if code := run([]string{"restore", "--data-dir", restored.DataDir, "--from", file}, &out, &errb); code != 0 {
		t.Fatalf("restore: exit %d, stderr %q", code, errb.String())
	}
	m := serveDataDir(t, restored)
	restored.URL = m.URL()
	rc := restored.login(t)
	missing := 0
	for _, k := range before {
		if st := restored.call(t, rc, http.MethodGet, "/v1/workspaces/"+s.WorkspaceID+"/keys/"+k.id, nil, nil); st != http.StatusOK {
			missing++
		}
	}
	t.Logf("%d keys acknowledged before the backup, %d in all; %d missing after restore", len(before), len(acked), missing)
	if missing != 0 {
		t.Errorf("%d of %d keys acknowledged before the backup are missing after restore", missing, len(before))
	}
	for _, k := range []ackedKey{before[0], before[len(before)-1]} {
		if got := restored.verifySecret(t, k.secret, "items:read"); got.Status != http.StatusOK || !got.Valid {
			t.Errorf("verifying a restored key: got %d %+v, want 200 valid", got.Status, got)
		}
	}
}

func TestRestoreRefusals(t *testing.T) {
	s := startServer(t)
	file := filepath.Join(t.TempDir(), "b.db")
	var out, errb bytes.Buffer
	if code := run([]string{"backup", "--data-dir", s.DataDir, "--out", file}, &out, &errb); code != 0 {
		t.Fatalf("backup: %d %s", code, errb.String())
	}
	stopped := t.TempDir()
	if code := run([]string{"restore", "--data-dir", stopped, "--from", file}, &out, &errb); code != 0 {
		t.Fatalf("restore into an empty directory: %d %s", code, errb.String())
	}
	junk := filepath.Join(t.TempDir(), "junk.db")
	if err := os.WriteFile(junk, []byte("not a database"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"existing store without --force", []string{"restore", "--data-dir", stopped, "--from", file}, "add --force"},
		{"not a database", []string{"restore", "--data-dir", t.TempDir(), "--from", junk}, "not a SQLite database"},
		{"no --from", []string{"restore", "--data-dir", t.TempDir()}, "needs --from"},
		{"backup over an existing file", []string{"backup", "--data-dir", s.DataDir, "--out", file}, "exists"},
		{"backup without --out", []string{"backup", "--data-dir", s.DataDir}, "needs --out"},
		{"backup of no store", []string{"backup", "--data-dir", filepath.Join(t.TempDir(), "none"), "--out", filepath.Join(t.TempDir(), "x.db")}, "no latchkey store"},
		{"backup on PostgreSQL", []string{"backup", "--database-url", "postgres://u:secret@127.0.0.1:1/db", "--out", "x.db"}, "pg_dump"},
		{"restore on PostgreSQL", []string{"restore", "--database-url", "postgres://u:secret@127.0.0.1:1/db", "--from", file}, "pg_restore"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			if code := run(tc.args, &out, &errb); code != 2 || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("exit %d, stderr %q; want 2 and %q", code, errb.String(), tc.want)
			}
			if strings.Contains(errb.String(), "secret") {
				t.Errorf("the database URL's password is in the message: %q", errb.String())
			}
		})
	}
	// With --force the old store is kept aside, and the restored one serves.
	if code := run([]string{"restore", "--data-dir", stopped, "--from", file, "--force"}, &out, &errb); code != 0 {
		t.Fatalf("restore --force: %d %s", code, errb.String())
	}
	kept, _ := filepath.Glob(filepath.Join(stopped, "latchkey.db.replaced-*"))
	if len(kept) == 0 {
		t.Errorf("restore --force kept no copy of the replaced store")
	}
	r := &testServer{DataDir: stopped, OwnerEmail: s.OwnerEmail, OwnerPassword: s.OwnerPassword}
	r.URL = serveDataDir(t, r).URL()
	r.login(t)
}
