package postgres

import (
	"context"
	"testing"
	"time"
)

func TestTryAdvisoryLock(t *testing.T) {
	s := newTestServer(t)
	a, b := open(t, s.schema()), open(t, s.schema()) // two instances
	ctx := context.Background()
	const key = 42

	release, ok, err := a.TryAdvisoryLock(ctx, key)
	if err != nil || !ok {
		t.Fatalf("TryAdvisoryLock(a): got %v, %v, want the lock", ok, err)
	}
	if r, ok, err := b.TryAdvisoryLock(ctx, key); err != nil || ok || r != nil {
		t.Fatalf("TryAdvisoryLock(b) while a holds it: got %v, %v, want not ok and no release", ok, err)
	}
	// Another key is another lock.
	other, ok, err := b.TryAdvisoryLock(ctx, key+1)
	if err != nil || !ok {
		t.Fatalf("TryAdvisoryLock(b, other key): got %v, %v, want the lock", ok, err)
	}
	other()

	release()
	release() // twice is fine
	releaseB, ok, err := b.TryAdvisoryLock(ctx, key)
	if err != nil || !ok {
		t.Fatalf("TryAdvisoryLock(b) after release: got %v, %v, want the lock", ok, err)
	}

	// A holder whose session dies loses the lock to the next instance.
	var n int
	err = s.admin.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = $1 AND application_name = 'latchkey lock'`, s.name).Scan(&n)
	if err != nil || n != 1 {
		t.Fatalf("terminate the holder: got %d, %v, want 1", n, err)
	}
	var got bool
	for range 50 {
		var r func()
		if r, got, err = a.TryAdvisoryLock(ctx, key); err != nil {
			t.Fatalf("TryAdvisoryLock(a) after b's session died: got %v", err)
		}
		if got {
			r()
			break
		}
		time.Sleep(20 * time.Millisecond) // the server ends the session after answering
	}
	if !got {
		t.Fatalf("TryAdvisoryLock(a) after b's session died: got never, want the lock")
	}
	releaseB() // on a dead connection: must not hang or panic

	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if _, ok, err := a.TryAdvisoryLock(cancelled, key); err == nil || ok {
		t.Fatalf("TryAdvisoryLock(cancelled ctx): got %v, %v, want an error", ok, err)
	}
	// No connection is left behind by the calls above (sessions end
	// shortly after their client closes them).
	for i := 0; ; i++ {
		err = s.admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = $1 AND application_name = 'latchkey lock'`, s.name).Scan(&n)
		if err == nil && n == 0 {
			break
		}
		if i == 100 {
			t.Fatalf("lock connections left: got %d, %v, want 0", n, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
