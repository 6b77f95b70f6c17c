package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/manage/managetest"
)

// principals are the columns of the authorization grid, in order. The mk:
// columns are management keys with that one scope, created by the owner.
var principals = []string{
	"owner", "super_admin", "admin", "member", "operator",
	"mk:keys:read", "mk:keys:write", "mk:events:read", "mk:members:read", "mk:members:write", "mk:vaults:read",
	"anonymous",
}

// grid is the authorization table as the API must answer it: one row per
// endpoint (and target), one expected status per principal, in the order
// of principals. Targets: W a workspace key, M a personal key of the
// "member" principal, O a personal key of another member.
//
// It is written out by hand rather than derived from the domain's table, so a
// handler that forgot to ask the table, or a table entry changed by
// mistake, shows up here as a wrong status.
var grid = []struct {
	method, path, body string
	want               string
}{
	//                                                                      own   sup   adm   mem   op    k:r   k:w   e:r   m:r   m:w   v:r   anon
	{"GET", "/v1/me", "" /*                                             */, "200   200   200   200   200   200   200   200   200   200   200   401"},
	{"GET", "/v1/catalog", "" /*                                        */, "200   200   200   200   200   200   200   200   200   200   200   401"},
	{"GET", "/v1/workspaces/{ws}/keys", "" /*                           */, "200   200   200   200   200   200   403   403   403   403   403   401"},
	{"POST", "/v1/workspaces/{ws}/keys", `{"name":"w","owner":"workspace"}`,
		/*                                                               */ "201   201   201   403   403   403   201   403   403   403   403   401"},
	{"POST", "/v1/workspaces/{ws}/keys", `{"name":"p","owner":"me"}` /* */, "201   201   201   201   403   403   201   403   403   403   403   401"},
	{"GET", "/v1/workspaces/{ws}/keys/{W}", "" /*                       */, "200   200   200   404   200   200   403   403   403   403   403   401"},
	{"GET", "/v1/workspaces/{ws}/keys/{M}", "" /*                       */, "200   200   200   200   200   200   403   403   403   403   403   401"},
	{"GET", "/v1/workspaces/{ws}/keys/{O}", "" /*                       */, "200   200   200   404   200   200   403   403   403   403   403   401"},
	{"GET", "/v1/workspaces/{ws}/keys/{W}/usage", "" /*                 */, "200   200   200   404   200   200   403   403   403   403   403   401"},
	{"GET", "/v1/workspaces/{ws}/keys/{W}/usage/tags", "" /*            */, "200   200   200   404   200   200   403   403   403   403   403   401"},
	{"GET", "/v1/workspaces/{ws}/keys/{M}/usage", "" /*                 */, "200   200   200   200   200   200   403   403   403   403   403   401"},
	{"GET", "/v1/workspaces/{ws}/keys/{M}/usage/tags", "" /*            */, "200   200   200   200   200   200   403   403   403   403   403   401"},
	{"PATCH", "/v1/workspaces/{ws}/keys/{W}", `{"name":"n"}` /*         */, "200   200   200   404   403   403   200   403   403   403   403   401"},
	{"PATCH", "/v1/workspaces/{ws}/keys/{M}", `{"name":"n"}` /*         */, "200   200   200   200   403   403   200   403   403   403   403   401"},
	{"PATCH", "/v1/workspaces/{ws}/keys/{O}", `{"name":"n"}` /*         */, "200   200   200   404   403   403   200   403   403   403   403   401"},
	{"POST", "/v1/workspaces/{ws}/keys/{W}/revoke", "" /*               */, "200   200   200   404   403   403   200   403   403   403   403   401"},
	{"POST", "/v1/workspaces/{ws}/keys/{M}/revoke", "" /*               */, "200   200   200   200   403   403   200   403   403   403   403   401"},
	{"POST", "/v1/workspaces/{ws}/keys/{O}/revoke", "" /*               */, "200   200   200   404   403   403   200   403   403   403   403   401"},
	{"POST", "/v1/workspaces/{ws}/keys/{W}/reset", "" /*                */, "200   200   200   404   403   403   200   403   403   403   403   401"},
	{"POST", "/v1/workspaces/{ws}/keys/{M}/reset", "" /*                */, "200   200   200   200   403   403   200   403   403   403   403   401"},
	{"DELETE", "/v1/workspaces/{ws}/keys/{W}", "" /*                    */, "204   204   204   404   403   403   204   403   403   403   403   401"},
	{"DELETE", "/v1/workspaces/{ws}/keys/{M}", "" /*                    */, "204   204   204   204   403   403   204   403   403   403   403   401"},
	{"DELETE", "/v1/workspaces/{ws}/keys/{O}", "" /*                    */, "204   204   204   404   403   403   204   403   403   403   403   401"},
	{"GET", "/v1/workspaces/{ws}/events", "" /*                         */, "200   200   200   403   403   403   403   200   403   403   403   401"},
	{"GET", "/v1/workspaces/{ws}/settings", "" /*                       */, "200   200   200   200   200   200   403   403   403   403   403   401"},
	{"PATCH", "/v1/workspaces/{ws}/settings", `{"members_may_create_personal_keys":true}`,
		/*                                                               */ "200   200   403   403   403   403   403   403   403   403   403   401"},
	{"GET", "/v1/workspaces/{ws}/members", "" /*                        */, "200   200   200   403   200   403   403   403   200   403   403   401"},
	{"POST", "/v1/workspaces/{ws}/members", `{"email":"{email}"}` /*    */, "201   201   403   403   403   403   403   403   403   201   403   401"},
	{"POST", "/v1/workspaces/{ws}/members", `{"email":"{email}","role":"owner"}`,
		/*                                                               */ "201   403   403   403   403   403   403   403   403   403   403   401"},
	{"PATCH", "/v1/workspaces/{ws}/members/{U}", `{"role":"admin"}` /*  */, "200   200   403   403   403   403   403   403   403   200   403   401"},
	{"PATCH", "/v1/workspaces/{ws}/members/{U}", `{"role":"owner"}` /*  */, "200   403   403   403   403   403   403   403   403   403   403   401"},
	{"POST", "/v1/workspaces/{ws}/members/{U}/invite", "" /*           */, "201   201   403   403   403   403   403   403   403   201   403   401"},
	{"DELETE", "/v1/workspaces/{ws}/members/{U}", "" /*                 */, "204   204   403   403   403   403   403   403   403   204   403   401"},
	{"GET", "/v1/workspaces/{ws}/scim-key-requests", "" /*              */, "200   200   200   403   200   403   403   403   403   403   403   401"},
	{"POST", "/v1/workspaces/{ws}/scim-key-requests", `{"contact_email":"it@acme.test","integration":"okta"}`,
		/*                                                               */ "201   201   201   403   403   403   403   403   403   403   403   401"},
	{"GET", "/v1/workspaces", "" /*                                     */, "403   403   403   403   200   403   403   403   403   403   403   401"},
	{"POST", "/v1/workspaces", `{"name":"New","owner":{"email":"{email}"}}`,
		/*                                                               */ "403   403   403   403   201   403   403   403   403   403   403   401"},
	{"GET", "/v1/scim-key-requests", "" /*                              */, "403   403   403   403   200   403   403   403   403   403   403   401"},
	{"POST", "/v1/workspaces/{ws}/scim-key-requests/{A}/pickup", "" /* */, "201   201   201   403   403   403   403   403   403   403   403   401"},
	{"POST", "/v1/scim-key-requests/{R}/approve", "" /*                 */, "403   403   403   403   200   403   403   403   403   403   403   401"},
	{"POST", "/v1/scim-key-requests/{R}/issue", "" /*                   */, "403   403   403   403   200   403   403   403   403   403   403   401"},
}

// authzWorld is a server with one user per role, an operator, management
// keys of each scope, and a second workspace to test isolation.
type authzWorld struct {
	s       *testServer
	svc     *manage.Service
	clients map[string]*http.Client
	headers map[string][]string
	as      map[string]latchkey.Principal // principals in workspace A, for making fixtures
	other   string                        // workspace B
	otherW  string                        // a key of B
	otherU  string                        // a member of B
	n       atomic.Int64
}

func newAuthzWorld(t *testing.T) *authzWorld {
	ctx := context.Background()
	s := startServer(t)
	w := &authzWorld{s: s, svc: s.Main.service, clients: map[string]*http.Client{}, headers: map[string][]string{}, as: map[string]latchkey.Principal{}}
	owner, err := w.svc.Principal(ctx, manage.Caller{User: &latchkey.User{ID: s.OwnerID, Email: s.OwnerEmail}}, s.WorkspaceID)
	if err != nil {
		t.Fatal(err)
	}
	w.as["owner"] = owner
	w.clients["owner"] = s.login(t)
	const pw = "correct horse battery"
	for _, role := range []latchkey.Role{latchkey.RoleSuperAdmin, latchkey.RoleAdmin, latchkey.RoleMember, latchkey.RoleMember} {
		name := string(role)
		if _, ok := w.as[name]; ok {
			name = "member2"
		}
		m := managetest.Join(t, w.svc, owner, s.WorkspaceID, manage.AddMember{Email: name + "@example.com", Role: role}, pw)
		var err error
		if w.as[name], err = w.svc.Principal(ctx, manage.Caller{User: &latchkey.User{ID: m.UserID, Email: m.Email}}, s.WorkspaceID); err != nil {
			t.Fatal(err)
		}
		w.clients[name] = loginAs(t, s, m.Email, pw)
	}
	if _, err := w.svc.CreateOperator(ctx, "support@vendor.example", pw); err != nil {
		t.Fatal(err)
	}
	w.clients["operator"] = loginAs(t, s, "support@vendor.example", pw)
	for _, p := range principals {
		scope, ok := strings.CutPrefix(p, "mk:")
		if !ok {
			continue
		}
		_, secret, err := w.svc.CreateKey(ctx, owner, s.WorkspaceID, manage.CreateKey{Name: p, Type: latchkey.TypeManagement, Scopes: []string{scope}})
		if err != nil {
			t.Fatal(err)
		}
		w.clients[p] = &http.Client{}
		w.headers[p] = []string{"Authorization: Bearer " + secret}
	}
	w.clients["anonymous"] = &http.Client{}
	issuance := latchkey.IssuanceOperator
	if _, err := w.svc.UpdateSettings(ctx, owner, s.WorkspaceID, manage.SettingsPatch{ScimKeyIssuance: &issuance}); err != nil {
		t.Fatal(err)
	}

	// Workspace B: same name, its own owner, a key and a member.
	op, _ := w.svc.Principal(ctx, manage.Caller{User: &latchkey.User{ID: "usr_op", Operator: true}}, "")
	b, bu := managetest.Owner(t, w.svc, op, "Acme", "owner-b@example.com", pw)
	bp, _ := w.svc.Principal(ctx, manage.Caller{User: bu}, b.ID)
	k, _, err := w.svc.CreateKey(ctx, bp, b.ID, manage.CreateKey{Name: "B key"})
	if err != nil {
		t.Fatal(err)
	}
	u, _, err := w.svc.AddMember(ctx, bp, b.ID, manage.AddMember{Email: "member-b@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	w.other, w.otherW, w.otherU = b.ID, k.ID, u.UserID
	return w
}

func loginAs(t *testing.T, s *testServer, email, pw string) *http.Client {
	t.Helper()
	o := testServer{URL: s.URL, OwnerEmail: email, OwnerPassword: pw}
	return o.login(t)
}

// fixtures makes fresh objects for one cell of the grid, so that a revoke
// or delete in one cell does not change the next.
func (w *authzWorld) fixtures(t *testing.T, path, body string) (string, string) {
	ctx := context.Background()
	ws := w.s.WorkspaceID
	key := func(as string, owner string) string {
		k, _, err := w.svc.CreateKey(ctx, w.as[as], ws, manage.CreateKey{Name: "fixture", Owner: owner})
		if err != nil {
			t.Fatal(err)
		}
		return k.ID
	}
	n := w.n.Add(1)
	r := strings.NewReplacer("{email}", fmt.Sprintf("new%d@example.com", n))
	body = r.Replace(body)
	path = strings.ReplaceAll(path, "{ws}", ws)
	switch {
	case strings.Contains(path, "{W}"):
		path = strings.ReplaceAll(path, "{W}", key("owner", "workspace"))
	case strings.Contains(path, "{M}"):
		path = strings.ReplaceAll(path, "{M}", key("member", "me"))
	case strings.Contains(path, "{O}"):
		path = strings.ReplaceAll(path, "{O}", key("member2", "me"))
	case strings.Contains(path, "{U}"):
		m, _, err := w.svc.AddMember(ctx, w.as["owner"], ws, manage.AddMember{Email: fmt.Sprintf("target%d@example.com", n)})
		if err != nil {
			t.Fatal(err)
		}
		path = strings.ReplaceAll(path, "{U}", m.UserID)
	case strings.Contains(path, "{R}"):
		req, err := w.svc.RequestScimKey(ctx, w.as["owner"], ws, "it@acme.test", "entra")
		if err != nil {
			t.Fatal(err)
		}
		path = strings.ReplaceAll(path, "{R}", req.ID)
	case strings.Contains(path, "{A}"):
		req, err := w.svc.RequestScimKey(ctx, w.as["owner"], ws, "it@acme.test", "entra")
		if err == nil {
			_, err = w.svc.ApproveScimKeyRequest(ctx, latchkey.Principal{Kind: latchkey.PrincipalOperator, Email: "grid"}, req.ID)
		}
		if err != nil {
			t.Fatal(err)
		}
		path = strings.ReplaceAll(path, "{A}", req.ID)
	}
	return path, body
}

func (w *authzWorld) do(t *testing.T, who, method, path, body string) exchange {
	var payload any
	if body != "" {
		payload = body
	}
	return send(t, w.clients[who], method, w.s.URL+path, payload, w.headers[who]...)
}

// TestAuthorizationGrid checks every principal against every management
// endpoint and target, in the own workspace and in another one.
func TestAuthorizationGrid(t *testing.T) {
	w := newAuthzWorld(t)
	for _, row := range grid {
		want := strings.Fields(row.want)
		if len(want) != len(principals) {
			t.Fatalf("%s %s: %d expectations for %d principals", row.method, row.path, len(want), len(principals))
		}
		for i, who := range principals {
			name := fmt.Sprintf("%s %s %s as %s", row.method, row.path, row.body, who)
			path, body := w.fixtures(t, row.path, row.body)
			got := w.do(t, who, row.method, path, body)
			if strconv.Itoa(got.status) != want[i] {
				t.Errorf("%s: got %d, want %s (%s)", name, got.status, want[i], got.raw)
			}
			if !strings.Contains(row.path, "{ws}") || who == "anonymous" || who == "operator" {
				continue
			}
			// The same call aimed at the other workspace's objects: they do not exist for this caller.
			op := strings.NewReplacer("{ws}", w.other, "{W}", w.otherW, "{M}", w.otherW, "{O}", w.otherW, "{U}", w.otherU)
			other := w.do(t, who, row.method, op.Replace(row.path), strings.ReplaceAll(row.body, "{email}", "x@example.com"))
			if other.status != http.StatusNotFound {
				t.Errorf("%s in another workspace: got %d, want 404 (%s)", name, other.status, other.raw)
			}
		}
	}
	// Nothing of workspace B changed.
	ctx := context.Background()
	if k, err := w.s.Main.store.Key(ctx, w.other, w.otherW); err != nil || k.RevokedAt != nil || k.Name != "B key" {
		t.Errorf("workspace B's key changed: %+v, %v", k, err)
	}
	if m, err := w.s.Main.store.Member(ctx, w.other, w.otherU); err != nil || m.Role != latchkey.RoleMember {
		t.Errorf("workspace B's member changed: %+v, %v", m, err)
	}
}
