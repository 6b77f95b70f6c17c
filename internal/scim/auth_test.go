package scim

import (
	"net/http"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/manage/managetest"
)

// TestAuthentication: only an active SCIM key opens /scim/v2, and only its
// own workspace's users; every change it makes is logged as its own.
func TestAuthentication(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			e := newEnv(t, st.open(t))
			mgmt := e.key(latchkey.TypeManagement, "ci")
			public := e.key("public_api", "app")
			for name, tok := range map[string]string{
				"no key": "", "management key": mgmt, "public_api key": public,
				"malformed": "lk_prod_nope", "unknown": "lk_prod_0000000000000000000000000000000000000000",
			} {
				got := e.do("GET", "/Users", nil, tok)
				if got.status != http.StatusUnauthorized || got.body["status"] != "401" || got.header.Get("WWW-Authenticate") == "" {
					t.Errorf("%s: got %d %s, want a SCIM 401 with WWW-Authenticate", name, got.status, got.raw)
				}
			}
			// Basic or X-API-Key are not SCIM's scheme.
			req, _ := http.NewRequest("GET", e.url+"/Users", nil)
			req.Header.Set("X-API-Key", e.token)
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
				t.Errorf("X-API-Key: got %v %v, want 401", resp.StatusCode, err)
			}

			created := e.do("POST", "/Users", map[string]any{"userName": "ann@acme.test", "emails": []any{map[string]any{"value": "ann@acme.test"}}})
			if created.status != 201 {
				t.Fatalf("create: %d %s", created.status, created.raw)
			}
			evs, _, err := e.store.Events(e.ctx, latchkey.EventFilter{WorkspaceID: e.ws, Target: created.body["id"].(string), Limit: 10})
			if err != nil || len(evs) != 2 {
				t.Fatalf("events: got %d, %v; want scim.user_created and member.added", len(evs), err)
			}
			keys, _, _ := e.store.Keys(e.ctx, latchkey.KeyFilter{WorkspaceID: e.ws, Type: latchkey.TypeSCIM, Limit: 10})
			for _, ev := range evs {
				if ev.Actor != (latchkey.Actor{Type: latchkey.ActorKey, ID: keys[0].ID, Label: "Okta"}) || ev.IP != "127.0.0.1" {
					t.Errorf("%s: actor %+v from %q, want the SCIM key from 127.0.0.1", ev.Action, ev.Actor, ev.IP)
				}
			}

			// A SCIM key of another workspace sees none of this one.
			op, err := e.svc.CreateOperator(e.ctx, "ops@vendor.test", "Operator-Lantern-Orbit-42")
			if err != nil {
				t.Fatal(err)
			}
			opP, _ := e.svc.Principal(e.ctx, manage.Caller{User: op}, "")
			ws2, boss := managetest.Owner(t, e.svc, opP, "Other", "boss@other.test", "Other-Lantern-Orbit-42")
			bossP, _ := e.svc.Principal(e.ctx, manage.Caller{User: boss}, ws2.ID)
			_, other, err := e.svc.CreateKey(e.ctx, bossP, ws2.ID, manage.CreateKey{Name: "Entra", Type: latchkey.TypeSCIM})
			if err != nil {
				t.Fatal(err)
			}
			id := created.body["id"].(string)
			if got := e.do("GET", "/Users", nil, other); got.status != 200 || got.body["totalResults"] != float64(0) {
				t.Errorf("other workspace's list: got %d %s, want 0 users", got.status, got.raw)
			}
			for _, m := range []string{"GET", "DELETE"} {
				if got := e.do(m, "/Users/"+id, nil, other); got.status != 404 {
					t.Errorf("other workspace's %s: got %d, want 404", m, got.status)
				}
			}
			if got := e.do("PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","value":{"active":false}}]}`, other); got.status != 404 {
				t.Errorf("other workspace's PATCH: got %d, want 404", got.status)
			}

			// A revoked SCIM key stops at once.
			if _, err := e.svc.RevokeKey(e.ctx, e.owner, e.ws, keys[0].ID); err != nil {
				t.Fatal(err)
			}
			if got := e.do("GET", "/Users", nil); got.status != 401 {
				t.Errorf("revoked key: got %d, want 401", got.status)
			}
		})
	}
}
