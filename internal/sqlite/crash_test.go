package sqlite

import (
	"bufio"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

const crashEnv = "LATCHKEY_SQLITE_CRASH_CHILD"

// TestCrashKeepsAcknowledgedWrites kills a writing process with SIGKILL and
// checks that every write it had acknowledged is in the file, revocations
// included: a crash must never let a revoked key pass. SIGKILL proves that
// nothing acknowledged waits in the process; surviving power loss is what
// synchronous=FULL is for, which a test cannot simulate.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(path)
		return
	}
	path := filepath.Join(t.TempDir(), "crash.db")
	cmd := exec.Command(os.Args[0], "-test.run=^TestCrashKeepsAcknowledgedWrites$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var revoked []string
	sc := bufio.NewScanner(out)
	for len(revoked) < 100 && sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "revoked "); ok {
			revoked = append(revoked, id)
		}
	}
	// Kill while the child is still writing, then drain what it acknowledged
	// before it died.
	cmd.Process.Kill()
	for sc.Scan() {
		if id, ok := strings.CutPrefix(sc.Text(), "revoked "); ok {
			revoked = append(revoked, id)
		}
	}
	cmd.Wait()
	if len(revoked) < 100 {
		t.Fatalf("child acknowledged %d revocations, want at least 100", len(revoked))
	}

	db := open(t, path)
	for _, id := range revoked {
		k, err := db.Key(context.Background(), "ws_crash", id)
		if err != nil || k.RevokedAt == nil {
			t.Fatalf("key %s after the crash: got %v, %v, want revoked", id, k, err)
		}
	}
}

// crashChild creates and revokes keys until it is killed, printing each
// revocation once the store has acknowledged it.
func crashChild(path string) {
	ctx := context.Background()
	db, err := Open(ctx, path)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	now := time.Now().UTC()
	ws := &latchkey.Workspace{ID: "ws_crash", Name: "Crash", Settings: latchkey.DefaultSettings(), CreatedAt: now}
	owner := &latchkey.User{ID: "usr_crash", Email: "crash@example.com", CreatedAt: now}
	if err := db.CreateWorkspace(ctx, ws, owner, latchkey.Event{ID: "evt_crash"}); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for i := 0; ; i++ {
		id := fmt.Sprintf("key_%08d", i)
		k := &latchkey.Key{ID: id, WorkspaceID: ws.ID, Name: id, Type: "public_api", Environment: latchkey.Production,
			Owner: latchkey.OwnerWorkspace, CreatedAt: now, Hash: sha256.Sum256([]byte(id))}
		if err := db.CreateKey(ctx, k, latchkey.Event{ID: "evt_c" + id}); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		_, err := db.UpdateKey(ctx, ws.ID, id, func(k *latchkey.Key) (*latchkey.Event, error) {
			k.RevokedAt = &now
			return &latchkey.Event{ID: "evt_r" + id}, nil
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		fmt.Println("revoked " + id)
	}
}
