package console_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// TestUsageByOutcome: the key page breaks its verifications down by
// outcome under the chart, valid first, then refusals by count, and the
// parts add up to the totals.
func TestUsageByOutcome(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "Busy", Owner: latchkey.OwnerWorkspace})
	day := e.svc.Now().UTC().Truncate(24 * time.Hour)
	err := e.store.AddUsage(context.Background(), []latchkey.Usage{{WorkspaceID: e.ws, KeyID: k.ID, Day: day,
		Environment: latchkey.Production, Valid: 40, Denied: 9,
		Outcomes: map[string]int64{"valid": 40, string(latchkey.RateLimited): 7, string(latchkey.InsufficientScope): 2}}})
	if err != nil {
		t.Fatal(err)
	}
	page := e.get(t, hc, "/w/"+e.ws+"/keys/"+k.ID)
	for _, want := range []string{"By outcome", "Valid", "Rate limited", "<code class=\"muted\">rate_limited</code>", "Missing permissions", ">40<", ">7<", ">2<"} {
		if !page.has(want) {
			t.Errorf("the key page lacks %q", want)
		}
	}
	if i, j := strings.Index(page.body, "Rate limited"), strings.Index(page.body, "Missing permissions"); i < 0 || j < 0 || i > j {
		t.Error("refusals are not listed by count, most frequent first")
	}
}
