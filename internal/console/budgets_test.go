package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// TestBudgetsShownAndEditable: the key page shows credits and named
// limits, sets them, leaves the credits alone when a save does not change
// them (setting them again would void what instances leased), and
// refuses malformed limits next to the field.
func TestBudgetsShownAndEditable(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	remaining := int64(500)
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "Billed", Owner: latchkey.OwnerWorkspace,
		Credits:    &latchkey.CreditsInput{Remaining: &remaining, Refill: &latchkey.Refill{Interval: latchkey.RefillMonthly, Amount: 500}},
		RateLimits: []latchkey.NamedLimit{{Name: "burst", Limit: 10, Duration: latchkey.Duration(time.Second)}}})
	path := "/w/" + e.ws + "/keys/" + k.ID
	page := e.get(t, hc, path)
	for _, want := range []string{"500 left, refilled to 500 every month", "burst: 10 per second", `id="credits" name="credits"`,
		`value="500"`, `<option value="monthly" selected>`, "burst=10/1s"} {
		if !page.has(want) {
			t.Errorf("the key page lacks %q", want)
		}
	}
	key := func() *latchkey.Key {
		t.Helper()
		got, err := e.svc.Key(ctx, e.owner, e.ws, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	was := key().Credits.RefilledAt
	form := func(credits, refill, amount, limits string) url.Values {
		return url.Values{"name": {"Billed"}, "credits": {credits}, "refill": {refill}, "refill_amount": {amount}, "ratelimits": {limits},
			"credits_was": {"500|monthly|500"}, "ratelimits_was": {"burst=10/1s"}}
	}
	// Saving the page as shown sets nothing again.
	if got := e.post(t, hc, path, form("500", "monthly", "500", "burst=10/1s")); got.status != http.StatusSeeOther {
		t.Fatalf("saving unchanged: got %d", got.status)
	}
	if got := key().Credits.RefilledAt; !got.Equal(was) {
		t.Fatalf("an unchanged save set the credits again (refilled_at %s, was %s)", got, was)
	}
	if got := e.post(t, hc, path, form("20", "", "", "burst=5/1s\ndaily=1000/1d")); got.status != http.StatusSeeOther {
		t.Fatalf("saving new budgets: got %d", got.status)
	}
	after := key()
	if after.Credits == nil || after.Credits.Remaining != 20 || after.Credits.Refill != nil || len(after.RateLimits) != 2 || after.RateLimits[1].Name != "daily" {
		t.Fatalf("after saving: credits %+v, limits %+v", after.Credits, after.RateLimits)
	}
	got := e.post(t, hc, path, form("20", "", "", "burst 5 per second"))
	if got.status != http.StatusUnprocessableEntity || !got.has(`id="ratelimits-error"`) || !got.has("name=LIMIT/DURATION") {
		t.Errorf("a malformed limit: got %d, want 422 with the error next to the field", got.status)
	}
	// Emptying both makes the key unlimited.
	p := form("", "", "", "")
	p.Set("credits_was", "20||")
	p.Set("ratelimits_was", "burst=5/1s\ndaily=1000/1d")
	if got := e.post(t, hc, path, p); got.status != http.StatusSeeOther {
		t.Fatalf("emptying: got %d", got.status)
	}
	if k := key(); k.Credits != nil || k.RateLimits != nil {
		t.Fatalf("after emptying: credits %+v, limits %+v, want none", k.Credits, k.RateLimits)
	}
	if page := e.get(t, hc, path); !page.has("Unlimited") {
		t.Error("a key without credits does not say it is unlimited")
	}
}

// TestWizardSetsBudgets: the wizard's second step sets credits and limits.
func TestWizardSetsBudgets(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	base := "/w/" + e.ws
	step2 := e.post(t, hc, base+"/keys/new", wizardForm("Metered", nil))
	if !step2.has(`id="credits"`) || !step2.has(`id="ratelimits"`) {
		t.Fatal("step 2 lacks the usage-based section")
	}
	got := e.post(t, hc, base+"/keys", wizardForm("Metered", url.Values{"perm.items": {"items:read"}, "credits": {"1000"},
		"refill": {"daily"}, "refill_amount": {"100"}, "ratelimits": {"minute=60/1m"}}))
	if got.status != http.StatusOK {
		t.Fatalf("creating: got %d", got.status)
	}
	k := e.keyNamed(t, "Metered")
	if k == nil || k.Credits == nil || k.Credits.Remaining != 1000 || k.Credits.Refill == nil || k.Credits.Refill.Amount != 100 ||
		len(k.RateLimits) != 1 || k.RateLimits[0].Limit != 60 {
		t.Fatalf("the created key: %+v", k)
	}
}

// TestMemberCannotRaiseAnAdminsCredits: a member whose workspace does not
// let members create personal keys cannot give their key more credits
// than an admin left it, nor remove them.
func TestMemberCannotRaiseAnAdminsCredits(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	ten := int64(10)
	k, hc := e.narrowedMemberKey(t, manage.UpdateKey{Credits: &latchkey.CreditsInput{Remaining: &ten}})
	for _, credits := range []string{"1000000", ""} {
		got := e.post(t, hc, "/w/"+e.ws+"/keys/"+k.ID, url.Values{"name": {"Mine"}, "perm.items": {"items:read"},
			"credits": {credits}, "credits_was": {"10||"}, "ratelimits": {""}, "ratelimits_was": {""}})
		if got.status != http.StatusUnprocessableEntity || !got.has("widen the key") {
			t.Errorf("credits %q: got %d, want 422 saying the change would widen the key", credits, got.status)
		}
	}
	after, err := e.svc.Key(ctx, e.owner, e.ws, k.ID)
	if err != nil || after.Credits == nil || after.Credits.Remaining != 10 {
		t.Errorf("after the refused posts: %+v %v, want the admin's 10 credits", after.Credits, err)
	}
}
