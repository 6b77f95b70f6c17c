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

// TestRateLimitShownAndEditable: the key page shows a key's own rate
// limit in words and in the form, saves a new one, removes it when the
// number is emptied, and refuses what is not a number next to the field.
func TestRateLimitShownAndEditable(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "Limited", Owner: latchkey.OwnerWorkspace,
		RateLimit: &latchkey.RateLimit{Limit: 100, Period: latchkey.Duration(time.Minute)}})
	path := "/w/" + e.ws + "/keys/" + k.ID
	page := e.get(t, hc, path)
	for _, want := range []string{"100 requests per minute", `id="rate_limit" name="rate_limit"`, `value="100"`, `<option value="1m" selected>per minute</option>`} {
		if !page.has(want) {
			t.Errorf("the key page lacks %q", want)
		}
	}
	rate := func() *latchkey.RateLimit {
		t.Helper()
		got, err := e.svc.Key(context.Background(), e.owner, e.ws, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		return got.RateLimit
	}
	form := func(limit, period string) url.Values {
		return url.Values{"name": {"Limited"}, "rate_limit": {limit}, "rate_period": {period}}
	}
	if got := e.post(t, hc, path, form("5", "1s")); got.status != http.StatusSeeOther {
		t.Fatalf("saving 5 per second: got %d, want 303", got.status)
	}
	if r := rate(); r == nil || r.Limit != 5 || r.Period != latchkey.Duration(time.Second) {
		t.Fatalf("after saving: %+v, want 5 per 1s", r)
	}
	got := e.post(t, hc, path, form("lots", "1s"))
	if got.status != http.StatusUnprocessableEntity || !got.has(`id="rate_limit-error"`) || !got.has("whole number of requests") || !got.has(`value="lots"`) {
		t.Errorf("a limit that is not a number: got %d, want 422 with the error next to the field and the input kept", got.status)
	}
	if got := e.post(t, hc, path, form("10", "1y")); got.status != http.StatusUnprocessableEntity {
		t.Errorf("a period of a year: got %d, want 422", got.status)
	}
	if got := e.post(t, hc, path, form("", "1m")); got.status != http.StatusSeeOther {
		t.Fatalf("emptying the limit: got %d, want 303", got.status)
	}
	if r := rate(); r != nil {
		t.Errorf("after emptying the limit: %+v, want none", r)
	}
	if page := e.get(t, hc, path); !page.has("None of its own") {
		t.Error("a key without a limit does not say so")
	}
}

// TestWizardSetsRateLimit: the wizard's second step sets the new key's
// limit, and keeps it when going back to step 1 and on.
func TestWizardSetsRateLimit(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	base := "/w/" + e.ws
	step2 := e.post(t, hc, base+"/keys/new", wizardForm("Paced", nil))
	if !step2.has(`id="rate_limit"`) || !step2.has(`<option value="1m" selected>`) {
		t.Fatal("step 2 lacks the rate limit, or its period does not start at a minute")
	}
	back := e.post(t, hc, base+"/keys", wizardForm("Paced", url.Values{"rate_limit": {"10"}, "rate_period": {"1h"}, "back": {"1"}}))
	if !back.has(`name="rate_limit" value="10"`) || !back.has(`name="rate_period" value="1h"`) {
		t.Fatal("going back to step 1 loses the rate limit")
	}
	got := e.post(t, hc, base+"/keys", wizardForm("Paced", url.Values{"perm.items": {"items:read"}, "rate_limit": {"10"}, "rate_period": {"1h"}}))
	if got.status != http.StatusOK {
		t.Fatalf("creating: got %d, want 200", got.status)
	}
	if k := e.keyNamed(t, "Paced"); k == nil || k.RateLimit == nil || k.RateLimit.Limit != 10 || k.RateLimit.Period != latchkey.Duration(time.Hour) {
		t.Fatalf("the created key: %+v, want 10 per hour", k)
	}
}

// TestMemberCannotLiftAnAdminsRateLimit is the attack of a member whose
// workspace does not let members create personal keys: an admin limited
// their key, and emptying the limit on the key page (a widening) is
// refused, so the limit holds.
func TestMemberCannotLiftAnAdminsRateLimit(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	limit := &latchkey.RateLimit{Limit: 10, Period: latchkey.Duration(time.Minute)}
	k, hc := e.narrowedMemberKey(t, manage.UpdateKey{RateLimit: limit})
	got := e.post(t, hc, "/w/"+e.ws+"/keys/"+k.ID, url.Values{"name": {"Mine"}, "perm.items": {"items:read"}, "rate_limit": {""}, "rate_period": {"1m"}})
	if got.status == http.StatusSeeOther {
		t.Fatal("a member lifted the rate limit an admin set")
	}
	if got.status != http.StatusUnprocessableEntity || !got.has("widen the key") {
		t.Errorf("the refusal: got %d, want 422 saying the change would widen the key", got.status)
	}
	after, err := e.svc.Key(ctx, e.owner, e.ws, k.ID)
	if err != nil || after.RateLimit == nil || *after.RateLimit != *limit {
		t.Errorf("after the refused post: %+v %v, want the admin's limit", after.RateLimit, err)
	}
}

// narrowedMemberKey is the setting of the widening attacks: a member's
// personal key that an admin narrowed with up, in a workspace that then
// stopped letting members create keys, and the member's signed-in client.
func (e *env) narrowedMemberKey(t *testing.T, up manage.UpdateKey) (*latchkey.Key, *http.Client) {
	t.Helper()
	ctx := context.Background()
	mel := e.addMember(t, "mel@acme.test", latchkey.RoleMember)
	k, _ := e.createKey(t, mel, manage.CreateKey{Name: "Mine", Owner: "me", Scopes: []string{"items:read"}})
	if _, err := e.svc.UpdateKey(ctx, e.owner, e.ws, k.ID, up); err != nil {
		t.Fatal(err)
	}
	off := false
	if _, err := e.svc.UpdateSettings(ctx, e.owner, e.ws, manage.SettingsPatch{MembersMayCreatePersonalKeys: &off}); err != nil {
		t.Fatal(err)
	}
	return k, e.login(t, "mel@acme.test")
}
