package console_test

import (
	"context"
	"html"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// The Activity page filters by a person's email and a range of days, and
// its export links carry the same filters to the API.
func TestActivityFiltersAndExportLinks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	day := time.Date(2030, 3, 10, 15, 0, 0, 0, time.UTC)
	for i, who := range []string{"ann@acme.test", "bob@acme.test", "ann@acme.test"} {
		ev := latchkey.Event{ID: "evt_0000000000000000000000000" + string(rune('A'+i)), WorkspaceID: e.ws, At: day.Add(time.Duration(i) * 24 * time.Hour),
			Actor: latchkey.Actor{Type: latchkey.ActorUser, ID: "usr_" + who[:3], Label: who}, Action: "key.updated", Target: "key_" + string(rune('a'+i))}
		if err := e.store.AppendEvent(ctx, ev); err != nil {
			t.Fatal(err)
		}
	}
	hc := e.login(t, "owner@acme.test")
	page := e.get(t, hc, "/w/"+e.ws+"/activity?actor=ANN@acme.test&from=2030-03-10&to=2030-03-11")
	if page.status != 200 {
		t.Fatalf("activity: %d", page.status)
	}
	if !strings.Contains(page.body, "key_a") || strings.Contains(page.body, "key_b") || strings.Contains(page.body, "key_c") {
		t.Errorf("filtered by Ann and 10–11 March: want only key_a\n%s", page.body)
	}
	links := regexp.MustCompile(`href="(/v1/workspaces/[^"]+/events/export[^"]*)"`).FindAllStringSubmatch(page.body, -1)
	if len(links) != 2 {
		t.Fatalf("export links: got %d, want 2", len(links))
	}
	for _, l := range links {
		u, err := url.Parse(html.UnescapeString(l[1]))
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		to, err := time.Parse(time.RFC3339Nano, q.Get("to"))
		if q.Get("actor") != "ANN@acme.test" || q.Get("from") != "2030-03-10T00:00:00Z" || err != nil || !to.After(day.Add(24*time.Hour)) {
			t.Errorf("export link %s: the filters did not carry over", u)
		}
	}
	if bad := e.get(t, hc, "/w/"+e.ws+"/activity?from=yesterday"); bad.status != 200 || !strings.Contains(bad.body, "must be a date") {
		t.Errorf("a bad day: got %d, want the page with the error", bad.status)
	}
}
