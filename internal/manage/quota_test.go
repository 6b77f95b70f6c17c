package manage_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// TestAttackMemberFloodsWithPersonalKeys: a member creating key after key
// (each one mails the owners when it nears expiry) is stopped at the
// per-member cap with 422 and a quota detail; revoking does not free a
// place, deleting does, and others' keys are unaffected.
func TestAttackMemberFloodsWithPersonalKeys(t *testing.T) {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	svc := manage.New(manage.Config{Store: store, Now: c.Now, MaxKeysPerMember: 3, MaxKeysPerWorkspace: 6})
	first, err := svc.Init(ctx, "Acme", "owner@acme.test", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{svc: svc, store: store, clock: c, ws: first.Workspace.ID}
	if e.owner, err = svc.Principal(ctx, manage.Caller{User: first.Owner}, e.ws); err != nil {
		t.Fatal(err)
	}
	meg := e.addMember(t, "meg@acme.test", latchkey.RoleMember)
	var mine []string
	for i := range 3 {
		k, _, err := svc.CreateKey(ctx, meg, e.ws, manage.CreateKey{Name: fmt.Sprintf("flood %d", i), ExpiresIn: "1h"})
		if err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		mine = append(mine, k.ID)
	}
	over := func(who latchkey.Principal, owner, quota string) {
		t.Helper()
		_, _, err := svc.CreateKey(ctx, who, e.ws, manage.CreateKey{Name: "one more", Owner: owner})
		var le *latchkey.Error
		if latchkey.ErrorCode(err) != latchkey.EUNPROCESSABLE || !errors.As(err, &le) || le.Details["quota"] != quota {
			t.Fatalf("over the cap: got %v, want unprocessable with quota %s", err, quota)
		}
	}
	over(meg, "", "keys_per_member")
	if _, err := svc.RevokeKey(ctx, meg, e.ws, mine[0]); err != nil {
		t.Fatal(err)
	}
	over(meg, "", "keys_per_member") // revoked keys count until deleted
	if err := svc.DeleteKey(ctx, meg, e.ws, mine[0]); err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.CreateKey(ctx, meg, e.ws, manage.CreateKey{Name: "after a delete"}); err != nil {
		t.Fatalf("after a delete: %v", err)
	}
	// The victim's own keys are untouched by the member's flood, and the
	// workspace cap counts every key.
	for i := range 3 {
		if _, _, err := svc.CreateKey(ctx, e.owner, e.ws, manage.CreateKey{Name: fmt.Sprintf("company %d", i)}); err != nil {
			t.Fatalf("company key %d: %v", i, err)
		}
	}
	over(e.owner, "workspace", "keys_per_workspace")
	n, err := store.CountKeys(ctx, e.ws, "")
	if err != nil || n != 6 {
		t.Fatalf("keys: got %d, %v, want 6", n, err)
	}
}

func TestQuotaDefaultsAndNoCap(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t) // zero config: the default caps
	meg := e.addMember(t, "meg@acme.test", latchkey.RoleMember)
	for i := range manage.DefaultMaxKeysPerMember {
		if _, _, err := e.svc.CreateKey(ctx, meg, e.ws, manage.CreateKey{Name: fmt.Sprintf("k%d", i)}); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
	}
	if _, _, err := e.svc.CreateKey(ctx, meg, e.ws, manage.CreateKey{Name: "101st"}); latchkey.ErrorCode(err) != latchkey.EUNPROCESSABLE {
		t.Fatalf("the 101st personal key: got %v, want unprocessable", err)
	}
	// Workspace keys are not the member cap's business.
	if _, _, err := e.svc.CreateKey(ctx, e.owner, e.ws, manage.CreateKey{Name: "company"}); err != nil {
		t.Fatalf("a company key: %v", err)
	}
}
