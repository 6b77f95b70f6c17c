package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func eventIDs(t *testing.T, db *DB) map[string]bool {
	t.Helper()
	rows, err := db.read.Query(`SELECT id FROM events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	ids := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		ids[id] = true
	}
	return ids
}

// TestBackupUnderWritesHoldsEveryCommittedWrite takes a snapshot while a
// writer keeps committing: every write acknowledged before the backup began
// is in the snapshot, which is a sound store that opens and takes writes.
func TestBackupUnderWritesHoldsEveryCommittedWrite(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, filepath.Join(dir, "latchkey.db"))
	var mu sync.Mutex
	var acked []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				id := fmt.Sprintf("evt_w%d_%06d", w, i)
				ev := latchkey.Event{ID: id, At: time.Now(), Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: "test.write"}
				if err := db.AppendEvent(ctx, ev); err != nil {
					t.Errorf("AppendEvent: %v", err)
					return
				}
				mu.Lock()
				acked = append(acked, id)
				mu.Unlock()
			}
		})
	}
	time.Sleep(200 * time.Millisecond)
	mu.Lock()
	before := append([]string(nil), acked...)
	mu.Unlock()
	out := filepath.Join(t.TempDir(), "snap.db")
	if err := db.Backup(ctx, out); err != nil {
		t.Fatalf("Backup: %v", err)
	}
	time.Sleep(100 * time.Millisecond)
	close(stop)
	wg.Wait()
	if len(before) < 20 {
		t.Fatalf("only %d writes before the backup: the load did not run", len(before))
	}
	if _, err := os.Stat(out + ".partial"); !os.IsNotExist(err) {
		t.Errorf("the temporary file is left behind: %v", err)
	}
	if _, err := CheckBackup(ctx, out); err != nil {
		t.Fatalf("CheckBackup of a fresh backup: %v", err)
	}
	restoredPath := filepath.Join(t.TempDir(), "latchkey.db")
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(restoredPath, b, 0o600); err != nil {
		t.Fatal(err)
	}
	restored := open(t, restoredPath)
	got := eventIDs(t, restored)
	missing := 0
	for _, id := range before {
		if !got[id] {
			missing++
		}
	}
	t.Logf("%d writes acknowledged before the backup, %d in it, %d in all", len(before), len(got), len(acked))
	if missing > 0 {
		t.Errorf("%d of %d writes acknowledged before the backup are missing from it", missing, len(before))
	}
	if len(got) > len(acked) {
		t.Errorf("the backup holds %d events, more than the %d ever written", len(got), len(acked))
	}
	if err := restored.AppendEvent(ctx, latchkey.Event{ID: "evt_after_restore", At: time.Now(), Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: "test.write"}); err != nil {
		t.Errorf("writing to the restored store: %v", err)
	}
}

func TestBackupRefusesAnExistingFile(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "latchkey.db"))
	out := filepath.Join(t.TempDir(), "taken")
	if err := os.WriteFile(out, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := db.Backup(context.Background(), out); latchkey.ErrorCode(err) != latchkey.ECONFLICT {
		t.Errorf("Backup over an existing file: got %v, want ECONFLICT", err)
	}
	if b, _ := os.ReadFile(out); string(b) != "precious" {
		t.Errorf("the existing file was changed to %q", b)
	}
}

// TestCheckBackupRefusesWhatIsNoSoundStore: restore checks a file before
// it replaces a store with it.
func TestCheckBackupRefusesWhatIsNoSoundStore(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	db := open(t, filepath.Join(dir, "latchkey.db"))
	good := filepath.Join(dir, "good.db")
	if err := db.Backup(ctx, good); err != nil {
		t.Fatal(err)
	}
	goodBytes, _ := os.ReadFile(good)
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	other := filepath.Join(dir, "other.db")
	c, err := sql.Open("sqlite", other)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(`CREATE TABLE notes (body TEXT); INSERT INTO notes VALUES ('hi')`); err != nil {
		t.Fatal(err)
	}
	c.Close()
	corrupt := append([]byte(nil), goodBytes...)
	// Scribble over the pages after the header page: the b-trees no longer hold.
	for i := 4096 + 100; i < len(corrupt) && i < 4096*6; i += 7 {
		corrupt[i] ^= 0x5a
	}
	newer := filepath.Join(dir, "newer.db")
	if err := os.WriteFile(newer, goodBytes, 0o600); err != nil {
		t.Fatal(err)
	}
	c, err = sql.Open("sqlite", newer)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(`INSERT INTO ` + historyTable + ` (version_id, is_applied) VALUES (9999, 1)`); err != nil {
		t.Fatal(err)
	}
	c.Close()

	for _, tc := range []struct{ name, path, want string }{
		{"missing", filepath.Join(dir, "none.db"), "cannot read"},
		{"empty", write("empty.db", nil), "not a SQLite database"},
		{"text", write("text.db", []byte("latchkey backup, honest\n")), "not a SQLite database"},
		{"another application's database", other, "not a latchkey store"},
		{"corrupt", write("corrupt.db", corrupt), "integrity"},
		{"newer schema", newer, "newer than this latchkey"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := CheckBackup(ctx, tc.path)
			if latchkey.ErrorCode(err) != latchkey.EINVALID || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("got %v, want EINVALID saying %q", err, tc.want)
			}
		})
	}
	if v, err := CheckBackup(ctx, good); err != nil || v < 1 {
		t.Errorf("a good backup: got version %d, %v", v, err)
	}
}

func TestInUse(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "latchkey.db")
	if used, err := InUse(ctx, path); used || err != nil {
		t.Errorf("no file: got %v, %v; want false", used, err)
	}
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if used, err := InUse(ctx, path); !used || err != nil {
		t.Errorf("an open store: got %v, %v; want true", used, err)
	}
	db.Close()
	if used, err := InUse(ctx, path); used || err != nil {
		t.Errorf("a closed store: got %v, %v; want false", used, err)
	}
}
