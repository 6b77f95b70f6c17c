package jobs_test

import (
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// TestLifecycleWebhooks follows one key with a callback URL through its
// life: one key.expiring per notice, one key.expired, one key.deleted by
// the retention job, each enqueued once however often the jobs tick.
func TestLifecycleWebhooks(t *testing.T) {
	e := newEnv(t)
	k, _, err := e.svc.CreateKey(e.ctx, e.owner, e.ws, manage.CreateKey{Name: "hooked", Owner: latchkey.OwnerWorkspace,
		ExpiresIn: "40d", CallbackURL: "https://hooks.example.com/x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateKey(e.ctx, e.owner, e.ws, manage.CreateKey{Name: "plain", Owner: latchkey.OwnerWorkspace, ExpiresIn: "40d"}); err != nil {
		t.Fatal(err)
	}
	start := e.clock.Now()
	var types []string
	for _, at := range []time.Duration{0, 11 * latchkey.Day, 12 * latchkey.Day, 41 * latchkey.Day, 42 * latchkey.Day, 131 * latchkey.Day, 132 * latchkey.Day} {
		e.clock.Set(start.Add(at))
		if err := e.runner.RunOnce(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	list, _, err := e.store.WebhookDeliveries(e.ctx, e.ws, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range slices.Backward(list) {
		if d.KeyID != k.ID {
			t.Fatalf("delivery for key %s, want only %s (the other has no callback URL)", d.KeyID, k.ID)
		}
		types = append(types, d.Type)
	}
	if want := []string{"key.expiring", "key.expired", "key.deleted"}; !slices.Equal(types, want) {
		t.Fatalf("deliveries: got %v, want %v", types, want)
	}
}
