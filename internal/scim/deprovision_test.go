package scim

import (
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/manage/managetest"
)

// TestDeprovisioning links an existing member, deprovisions them by PATCH,
// reactivates them, then deletes them: login and personal keys follow at
// once, and a key revoked meanwhile stays revoked.
func TestDeprovisioning(t *testing.T) {
	for _, st := range stores {
		t.Run(st.name, func(t *testing.T) {
			e := newEnv(t, st.open(t))
			const email, pw = "mia@acme.test", "Mia-Lantern-Orbit-42"
			m := managetest.Join(t, e.svc, e.owner, e.ws, manage.AddMember{Email: email}, pw)
			u, _ := e.store.User(e.ctx, m.UserID)
			mp, _ := e.svc.Principal(e.ctx, manage.Caller{User: u}, e.ws)
			k1, keep, err := e.svc.CreateKey(e.ctx, mp, e.ws, manage.CreateKey{Name: "mine", Owner: "me"})
			if err != nil {
				t.Fatal(err)
			}
			k2, revoked, _ := e.svc.CreateKey(e.ctx, mp, e.ws, manage.CreateKey{Name: "revoked meanwhile", Owner: "me"})
			check := func(what string, wantLogin bool, want map[string]latchkey.VerifyCode) {
				t.Helper()
				for tok, code := range want {
					if _, got := e.v.Authenticate(e.ctx, tok); got != code {
						t.Errorf("%s: key answers %q, want %q", what, got, code)
					}
				}
				_, _, err := e.svc.Login(e.ctx, email, pw, "192.0.2.1")
				if (err == nil) != wantLogin {
					t.Errorf("%s: login error %v, want login %v", what, err, wantLogin)
				}
			}
			check("before", true, map[string]latchkey.VerifyCode{keep: "", revoked: ""})

			// The identity provider creates the user it does not know yet:
			// latchkey links the account instead of duplicating it.
			got := e.do("POST", "/Users", map[string]any{"userName": "Mia", "emails": []any{map[string]any{"value": "MIA@acme.test", "primary": true}}, "active": true})
			if got.status != 201 || got.body["id"] != m.UserID {
				t.Fatalf("create: %d %s, want 201 and the existing user's id %s", got.status, got.raw, m.UserID)
			}
			path := "/Users/" + m.UserID
			if got := e.do("PATCH", path, `{"Operations":[{"op":"Replace","path":"active","value":"False"}]}`); got.status != 200 {
				t.Fatalf("deprovision: %d %s", got.status, got.raw)
			}
			check("deprovisioned", false, map[string]latchkey.VerifyCode{keep: latchkey.OwnerDeprovisioned, revoked: latchkey.OwnerDeprovisioned})
			evs, _, _ := e.store.Events(e.ctx, latchkey.EventFilter{WorkspaceID: e.ws, Target: k1.ID, Action: latchkey.EventOwnerDeprovisioned, Limit: 5})
			if len(evs) != 1 || evs[0].Actor.Type != latchkey.ActorKey {
				t.Errorf("the key's log: got %d owner_deprovisioned events, want 1 by the SCIM key", len(evs))
			}

			if _, err := e.svc.RevokeKey(e.ctx, e.owner, e.ws, k2.ID); err != nil {
				t.Fatal(err)
			}
			if got := e.do("PUT", path, map[string]any{"userName": "Mia", "emails": []any{map[string]any{"value": "mia@acme.test", "primary": true}}, "active": true}); got.status != 200 {
				t.Fatalf("reactivate: %d %s", got.status, got.raw)
			}
			check("reactivated", true, map[string]latchkey.VerifyCode{keep: "", revoked: latchkey.KeyRevoked})
			if mm, _ := e.store.Member(e.ctx, e.ws, m.UserID); mm.Role != latchkey.RoleMember {
				t.Errorf("role: got %s, want member (SCIM never changes roles)", mm.Role)
			}

			if got := e.do("DELETE", path, nil); got.status != 204 {
				t.Fatalf("delete: %d %s", got.status, got.raw)
			}
			// Deletion is removal: the member's keys are revoked, so a later
			// re-admission cannot bring them back.
			check("deleted", false, map[string]latchkey.VerifyCode{keep: latchkey.KeyRevoked})
			if _, err := e.store.User(e.ctx, m.UserID); err != nil {
				t.Errorf("the account itself must stay: %v", err)
			}

			// The last active owner cannot be deprovisioned.
			got = e.do("POST", "/Users", map[string]any{"userName": "owner@acme.test", "active": true})
			if got.status != 201 {
				t.Fatalf("link owner: %d %s", got.status, got.raw)
			}
			for _, req := range []struct{ method, body string }{
				{"PATCH", `{"Operations":[{"op":"replace","value":{"active":false}}]}`},
				{"PUT", `{"userName":"owner@acme.test","active":false}`},
				{"DELETE", ""},
			} {
				var body any
				if req.body != "" {
					body = req.body
				}
				got = e.do(req.method, "/Users/"+e.ownerID, body)
				if got.status != 400 || got.body["scimType"] != "mutability" {
					t.Errorf("%s of the last owner: got %d %s, want 400 mutability", req.method, got.status, got.raw)
				}
			}
			if mm, _ := e.store.Member(e.ctx, e.ws, e.ownerID); !mm.Active {
				t.Errorf("the last owner was deprovisioned")
			}
		})
	}
}
