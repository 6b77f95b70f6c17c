package webhook_test

import (
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// The retry schedule the README, docs/webhooks.md and openapi.json state
// is the one a failing receiver sees: 8 attempts, the last 127 minutes
// after the first, then none.
func TestRetryScheduleIsWhatTheDocsSay(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(t, http.StatusInternalServerError)
	k, _, err := e.svc.CreateKey(t.Context(), e.owner, e.ws, manage.CreateKey{Name: "hooked", Owner: latchkey.OwnerWorkspace, CallbackURL: rcv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RevokeKey(t.Context(), e.owner, e.ws, k.ID); err != nil {
		t.Fatal(err)
	}
	s := e.sender(0) // the default number of attempts
	start := e.clock.Now()
	var at []time.Duration
	// Step the clock a minute at a time for six hours, as a ticking
	// sender would see it.
	for m := 0; m <= 6*60; m++ {
		e.clock.Set(start.Add(time.Duration(m) * time.Minute))
		before := len(rcv.got())
		if err := s.SendDue(t.Context()); err != nil {
			t.Fatal(err)
		}
		if len(rcv.got()) > before {
			at = append(at, time.Duration(m)*time.Minute)
		}
	}
	want := []time.Duration{0, 1, 3, 7, 15, 31, 63, 127}
	if len(at) != len(want) {
		t.Fatalf("attempts at %v, want %d attempts", at, len(want))
	}
	for i := range want {
		if at[i] != want[i]*time.Minute {
			t.Fatalf("attempt %d at %v, want %v (all: %v)", i+1, at[i], want[i]*time.Minute, at)
		}
	}
	for _, doc := range []string{"../../README.md", "../../docs/webhooks.md"} {
		b, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(string(b)), " ")
		if !strings.Contains(text, "1, 2, 4, 8, 16, 32 and 64 minutes") || !strings.Contains(text, "8 attempts over about 2 hours 7 minutes") {
			t.Errorf("%s does not state the schedule (1, 2, 4, 8, 16, 32 and 64 minutes; 8 attempts over about 2 hours 7 minutes)", doc)
		}
		if strings.Contains(text, "up to 6 hours") {
			t.Errorf("%s still promises retries for up to 6 hours", doc)
		}
	}
}
