package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/api/apitest"
	"github.com/latchkey/latchkey/internal/token"
)

// opServe serves the store in dir until the test ends and returns its URL.
func opServe(t *testing.T, dir string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m, err := NewMain(ctx, Config{
		DataDir: dir, Addr: "127.0.0.1:0", TokenPrefix: token.DefaultPrefix,
		Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard,
		FlushEvery: 50 * time.Millisecond, ShutdownGrace: 5 * time.Second,
	})
	if err != nil {
		cancel()
		t.Fatalf("NewMain: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Main.Run: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Main.Close: %v", err)
		}
	})
	return m.URL()
}

// opRun runs the CLI and returns its exit code, stdout and stderr.
func opRun(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func opFile(t *testing.T, content string) string {
	t.Helper()
	f := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(f, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// TestOperatorCLI creates operators and approves SCIM keys from the
// command line, on the store, before and while the server runs.
func TestOperatorCLI(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	code, out, errOut := opRun("init", "--data-dir", dir, "--workspace", "Acme", "--email", "owner@example.com", "--password-file", opFile(t, acctPassword+"\n"), "--json")
	if code != 0 {
		t.Fatalf("init: %d %s", code, errOut)
	}
	var ids struct {
		WorkspaceID string `json:"workspace_id"`
	}
	if err := json.Unmarshal([]byte(out), &ids); err != nil || ids.WorkspaceID == "" {
		t.Fatalf("init printed %q", out)
	}
	ws := ids.WorkspaceID
	pwFile := opFile(t, acctPassword+"\n")

	code, out, errOut = opRun("operator", "create", "--data-dir", dir, "--email", "Support@Vendor.example", "--password-file", pwFile, "--json")
	var created struct {
		UserID string `json:"user_id"`
		Email  string `json:"email"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &created) != nil || !strings.HasPrefix(created.UserID, "usr_") || created.Email != "support@vendor.example" {
		t.Fatalf("operator create: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if strings.Contains(out+errOut, acctPassword) {
		t.Error("operator create printed the password")
	}
	for name, args := range map[string][]string{
		"duplicate email":       {"--email", "support@vendor.example", "--password-file", pwFile},
		"duplicate, other case": {"--email", "SUPPORT@vendor.example", "--password-file", pwFile},
		"a member's email":      {"--email", "owner@example.com", "--password-file", pwFile},
		"weak password":         {"--email", "weak@vendor.example", "--password-file", opFile(t, "short\n")},
		"common password":       {"--email", "weak@vendor.example", "--password-file", opFile(t, "123456789012\n")},
		"bad email":             {"--email", "not an email", "--password-file", pwFile},
		"missing email":         {"--password-file", pwFile},
		"missing password file": {"--email", "x@vendor.example"},
		"unreadable file":       {"--email", "x@vendor.example", "--password-file", filepath.Join(dir, "nope")},
		"unknown flag":          {"--email", "x@vendor.example", "--password-file", pwFile, "--admin"},
	} {
		code, _, errOut := opRun(append([]string{"operator", "create", "--data-dir", dir}, args...)...)
		if code != 2 || errOut == "" {
			t.Errorf("operator create, %s: exit %d (stderr %q), want 2 with a message", name, code, errOut)
		}
	}

	scim := func(args ...string) (int, string, string) {
		return opRun(append([]string{"operator", "scim-key", "--data-dir", dir}, args...)...)
	}
	for name, args := range map[string][]string{
		"bad integration":   {"--workspace", ws, "--contact-email", "it@acme.example", "--integration", "onelogin"},
		"bad contact":       {"--workspace", ws, "--contact-email", "it at acme", "--integration", "okta"},
		"unknown workspace": {"--workspace", "ws_01ARZ3NDEKTSV4RRFFQ69G5FAV", "--contact-email", "it@acme.example", "--integration", "okta"},
		"junk workspace":    {"--workspace", "acme", "--contact-email", "it@acme.example", "--integration", "okta"},
		"missing workspace": {"--contact-email", "it@acme.example", "--integration", "okta"},
		"missing contact":   {"--workspace", ws, "--integration", "okta"},
		"missing idp":       {"--workspace", ws, "--contact-email", "it@acme.example"},
	} {
		if code, out, errOut := scim(args...); code == 0 || errOut == "" || strings.Contains(out, "lk_prod_") {
			t.Errorf("scim-key, %s: exit %d (stdout %q, stderr %q), want 2", name, code, out, errOut)
		}
	}

	// Approved before the server starts: no secret is printed.
	code, out, errOut = scim("--workspace", ws, "--contact-email", "it@acme.example", "--integration", "okta")
	if code != 0 || !strings.Contains(out, "approved SCIM key request skr_") || strings.Contains(out, "lk_") {
		t.Fatalf("scim-key: exit %d, stdout %q, stderr %q", code, out, errOut)
	}

	base := opServe(t, dir)
	v := apitest.New(t)
	anon := acctClient(v)

	// Approved while the server runs (SQLite WAL), as JSON; then a request
	// made by the workspace, approved by its id.
	code, out, errOut = scim("--workspace", ws, "--contact-email", "idp@acme.example", "--integration", "entra", "--json")
	var approved struct {
		Request map[string]any `json:"request"`
	}
	if code != 0 || json.Unmarshal([]byte(out), &approved) != nil || approved.Request["state"] != "approved" || strings.Contains(out, "lk_") {
		t.Fatalf("scim-key --json: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	owner := acctLogin(t, v, base, "owner@example.com", acctPassword)
	wsURL := base + "/v1/workspaces/" + ws
	expect(t, "reserve issuance to operators", send(t, owner, "PATCH", wsURL+"/settings", map[string]any{"scim_key_issuance": "operator"}), 200, "")
	asked := send(t, owner, "POST", wsURL+"/scim-key-requests", map[string]any{"contact_email": "sso@acme.example", "integration": "generic"})
	askedID := acctStr(asked.body, "request", "id")
	if code, out, errOut := scim("--request", askedID); code != 0 || !strings.Contains(out, askedID) || strings.Contains(out, "lk_") {
		t.Fatalf("scim-key --request: exit %d, stdout %q, stderr %q", code, out, errOut)
	}
	if code, _, errOut := scim("--request", askedID); code == 0 || errOut == "" {
		t.Errorf("approving twice: exit %d, want a failure", code)
	}
	if code, _, errOut := scim("--request", askedID, "--workspace", ws); code != 2 || errOut == "" {
		t.Errorf("--request with --workspace: exit %d, want 2", code)
	}

	// The operator created offline logs in: nothing awaits approval. The
	// owner picks each key up once, and it verifies.
	op := acctLogin(t, v, base, "support@vendor.example", acctPassword)
	if l := acctIDs(send(t, op, "GET", base+"/v1/scim-key-requests", nil), "id"); len(l) != 0 {
		t.Errorf("requests awaiting approval after the CLI approved all: %v", l)
	}
	reqs := acctIDs(send(t, owner, "GET", wsURL+"/scim-key-requests", nil), "id")
	if len(reqs) != 3 {
		t.Fatalf("the workspace's requests = %v", reqs)
	}
	for _, id := range reqs {
		got := send(t, owner, "POST", wsURL+"/scim-key-requests/"+id+"/pickup", nil)
		secret := acctStr(got.body, "secret")
		if got.status != 201 || !strings.HasPrefix(secret, "lk_prod_") || acctStr(got.body, "key", "type") != "scim" {
			t.Fatalf("pickup of %s: %d %s", id, got.status, got.raw)
		}
		if v := send(t, anon, "POST", base+"/v1/keys/verify", map[string]any{"key": secret, "type": "scim"}); v.status != 200 || acctStr(v.body, "key", "workspace_id") != ws {
			t.Errorf("the picked-up key verifies %d %s", v.status, v.raw)
		}
	}
	if evs := acctEvents(t, owner, wsURL, "scim_key.approved"); len(evs) != 3 || acctStr(evs[0], "actor", "type") != "operator" {
		t.Errorf("scim_key.approved events = %v", evs)
	}
	if evs := acctEvents(t, owner, wsURL, "scim_key.picked_up"); len(evs) != 3 || acctStr(evs[0], "actor", "label") != "owner@example.com" {
		t.Errorf("scim_key.picked_up events = %v", evs)
	}
	v.ReportCoverage(t, false)
}

// TestOperatorAPI drives an operator's work over the API: workspaces,
// their owners, SCIM key requests; and what operators may not do.
func TestOperatorAPI(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	acctOperator(t, s.DataDir, "support@vendor.example", acctPassword)
	op := acctLogin(t, v, s.URL, "support@vendor.example", acctPassword)
	acme := v.Client(s.login(t))
	acmeURL := s.URL + "/v1/workspaces/" + s.WorkspaceID

	who := send(t, op, "GET", s.URL+"/v1/me", nil)
	if who.status != 200 || acctObj(who.body["user"])["operator"] != true || len(who.body["workspaces"].([]any)) != 0 {
		t.Errorf("the operator's /v1/me = %s", who.raw)
	}
	if l := acctIDs(send(t, op, "GET", s.URL+"/v1/workspaces", nil), "id"); !slices.Equal(l, []string{s.WorkspaceID}) {
		t.Errorf("workspaces = %v", l)
	}
	expect(t, "an owner lists workspaces", send(t, acme, "GET", s.URL+"/v1/workspaces", nil), 403, "forbidden")
	expect(t, "an owner creates a workspace", send(t, acme, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "Mine", "owner": map[string]any{"email": "x@example.com"}}), 403, "forbidden")
	expect(t, "a management key lists workspaces", send(t, acctClient(v), "GET", s.URL+"/v1/workspaces", nil, "Authorization: Bearer "+s.managementKey(t)), 403, "forbidden")
	expect(t, "anonymous lists workspaces", send(t, acctClient(v), "GET", s.URL+"/v1/workspaces", nil), 401, "unauthenticated")

	// A workspace's owner is invited: they choose their password by
	// accepting, then log in.
	globex := send(t, op, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "  Globex  ", "owner": map[string]any{"email": "Gina@Globex.example", "name": "Gina"}})
	if globex.status != 201 || acctStr(globex.body, "workspace", "name") != "Globex" || acctStr(globex.body, "owner", "role") != "owner" ||
		acctStr(globex.body, "owner", "email") != "gina@globex.example" || globex.body["invite_token"] == nil {
		t.Fatalf("create Globex: %d %s", globex.status, globex.raw)
	}
	acctAccept(t, acctClient(v), s.URL, acctStr(globex.body, "invite_token"), acctPassword)
	globexID := acctStr(globex.body, "workspace", "id")
	globexURL := s.URL + "/v1/workspaces/" + globexID
	gina := acctLogin(t, v, s.URL, "gina@globex.example", acctPassword)
	if roles := acctMe(t, gina, s.URL); len(roles) != 1 || roles[globexID] != "owner" {
		t.Errorf("gina's workspaces = %v", roles)
	}

	// Without a password: an invite link, used once.
	initech := send(t, op, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "Initech", "owner": map[string]any{"email": "ian@initech.example"}})
	invite := acctStr(initech.body, "invite_token")
	if initech.status != 201 || invite == "" || acctStr(initech.body, "invite_url") != "/invite?token="+invite {
		t.Fatalf("create Initech: %d %s", initech.status, initech.raw)
	}
	ian := acctClient(v)
	if got := send(t, ian, "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": invite, "password": acctPassword}); got.status != 200 {
		t.Fatalf("ian accepts: %d %s", got.status, got.raw)
	}
	if roles := acctMe(t, ian, s.URL); roles[acctStr(initech.body, "workspace", "id")] != "owner" {
		t.Errorf("ian's workspaces = %v", roles)
	}
	expect(t, "the owner's invite is one-time", send(t, acctClient(v), "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": invite, "password": acctPassword}), 404, "not_found")

	// An existing account becomes owner of another workspace only by
	// accepting, signed in; the invitation cannot touch its password.
	second := send(t, op, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "Acme", "owner": map[string]any{"email": s.OwnerEmail}})
	if second.status != 201 || acctStr(second.body, "owner", "user_id") == s.OwnerID || second.body["invite_token"] == nil {
		t.Errorf("a second Acme for the same owner: %d %s", second.status, second.raw)
	}
	expect(t, "the operator's link sets the owner's password", send(t, acctClient(v), "POST", s.URL+"/v1/auth/accept-invite",
		map[string]string{"token": acctStr(second.body, "invite_token"), "password": "Operator-Chosen-Pass-77"}), 409, "conflict")
	if got := send(t, acme, "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": acctStr(second.body, "invite_token")}); got.status != 200 {
		t.Fatalf("the owner accepts signed in: %d %s", got.status, got.raw)
	}
	if roles := acctMe(t, acme, s.URL); len(roles) != 2 || roles[acctStr(second.body, "workspace", "id")] != "owner" {
		t.Errorf("the owner of two workspaces sees %v", roles)
	}

	for name, tc := range map[string]struct {
		in     map[string]any
		status int
		code   string
	}{
		"no name":                      {map[string]any{"name": " ", "owner": map[string]any{"email": "a@example.com"}}, 400, "invalid_request"},
		"long name":                    {map[string]any{"name": strings.Repeat("n", 101), "owner": map[string]any{"email": "a@example.com"}}, 400, "invalid_request"},
		"bad owner email":              {map[string]any{"name": "X", "owner": map[string]any{"email": "nope"}}, 400, "invalid_request"},
		"weak owner password":          {map[string]any{"name": "X", "owner": map[string]any{"email": "a@example.com", "password": "123456789012"}}, 400, "invalid_request"},
		"no owner":                     {map[string]any{"name": "X"}, 400, "invalid_request"},
		"unknown field":                {map[string]any{"name": "X", "owner": map[string]any{"email": "a@example.com"}, "plan": "gold"}, 400, "invalid_request"},
		"password of an existing user": {map[string]any{"name": "X", "owner": map[string]any{"email": "gina@globex.example", "password": acctPassword}}, 400, "invalid_request"},
	} {
		expect(t, name, send(t, op, "POST", s.URL+"/v1/workspaces", tc.in), tc.status, tc.code)
	}
	// Inviting an operator's address answers like any other; the operator
	// account cannot accept.
	opInvite := send(t, gina, "POST", globexURL+"/members", map[string]any{"email": "support@vendor.example"})
	expect(t, "an operator's address invited", opInvite, 201, "")
	expect(t, "the operator accepts", send(t, op, "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": acctStr(opInvite.body, "invite_token")}), 403, "forbidden")
	expect(t, "withdraw the invitation", send(t, gina, "DELETE", globexURL+"/members/"+acctStr(opInvite.body, "member", "user_id"), nil), 204, "")
	if l := acctIDs(send(t, op, "GET", s.URL+"/v1/workspaces", nil), "id"); len(l) != 4 {
		t.Errorf("refused creations created workspaces: %v", l)
	}

	// SCIM key requests: where issuance is "operator", admins ask, the
	// operator approves, and an admin picks the key up.
	expect(t, "request where admins issue", send(t, gina, "POST", globexURL+"/scim-key-requests", map[string]any{"contact_email": "it@globex.example", "integration": "okta"}), 409, "conflict")
	expect(t, "the owner reserves issuance to operators", send(t, gina, "PATCH", globexURL+"/settings", map[string]any{"scim_key_issuance": "operator"}), 200, "")
	acctAddMember(t, gina, globexURL, map[string]any{"email": "greg@globex.example", "role": "admin", "password": acctPassword})
	acctAddMember(t, gina, globexURL, map[string]any{"email": "mo@globex.example", "password": acctPassword})
	greg := acctLogin(t, v, s.URL, "greg@globex.example", acctPassword)
	mo := acctLogin(t, v, s.URL, "mo@globex.example", acctPassword)
	expect(t, "an admin creates a scim key", send(t, greg, "POST", globexURL+"/keys", map[string]any{"name": "okta", "type": "scim"}), 403, "forbidden")
	expect(t, "the owner creates a scim key", send(t, gina, "POST", globexURL+"/keys", map[string]any{"name": "okta", "type": "scim"}), 403, "forbidden")
	expect(t, "bad integration", send(t, greg, "POST", globexURL+"/scim-key-requests", map[string]any{"contact_email": "it@globex.example", "integration": "onelogin"}), 400, "invalid_request")
	expect(t, "bad contact", send(t, greg, "POST", globexURL+"/scim-key-requests", map[string]any{"contact_email": "it", "integration": "okta"}), 400, "invalid_request")
	expect(t, "a member requests", send(t, mo, "POST", globexURL+"/scim-key-requests", map[string]any{"contact_email": "it@globex.example", "integration": "okta"}), 403, "forbidden")
	expect(t, "a member lists requests", send(t, mo, "GET", globexURL+"/scim-key-requests", nil), 403, "forbidden")
	expect(t, "the operator requests", send(t, op, "POST", globexURL+"/scim-key-requests", map[string]any{"contact_email": "it@globex.example", "integration": "okta"}), 403, "forbidden")
	req := send(t, greg, "POST", globexURL+"/scim-key-requests", map[string]any{"contact_email": "it@globex.example", "integration": "okta"})
	reqID := acctStr(req.body, "request", "id")
	if req.status != 201 || acctStr(req.body, "request", "workspace_id") != globexID || acctObj(req.body["request"])["issued_at"] != nil {
		t.Fatalf("request: %d %s", req.status, req.raw)
	}
	if l := acctIDs(send(t, op, "GET", s.URL+"/v1/scim-key-requests", nil), "id"); !slices.Equal(l, []string{reqID}) {
		t.Errorf("the operator's queue = %v", l)
	}
	if l := acctIDs(send(t, op, "GET", globexURL+"/scim-key-requests", nil), "id"); !slices.Equal(l, []string{reqID}) {
		t.Errorf("Globex's requests as the operator sees them = %v", l)
	}
	approveURL := s.URL + "/v1/scim-key-requests/" + reqID + "/approve"
	pickupURL := globexURL + "/scim-key-requests/" + reqID + "/pickup"
	expect(t, "an owner approves", send(t, gina, "POST", approveURL, nil), 403, "forbidden")
	expect(t, "an owner lists the queue", send(t, gina, "GET", s.URL+"/v1/scim-key-requests", nil), 403, "forbidden")
	expect(t, "approve an unknown request", send(t, op, "POST", s.URL+"/v1/scim-key-requests/skr_01ARZ3NDEKTSV4RRFFQ69G5FAV/approve", nil), 404, "not_found")
	expect(t, "approve a junk id", send(t, op, "POST", s.URL+"/v1/scim-key-requests/key_01ARZ3NDEKTSV4RRFFQ69G5FAV/approve", nil), 404, "not_found")
	expect(t, "approve with a body", send(t, op, "POST", approveURL, map[string]any{"name": "x"}), 400, "invalid_request")
	expect(t, "pick up before approval", send(t, greg, "POST", pickupURL, nil), 409, "conflict")

	approved := send(t, op, "POST", approveURL, nil)
	if approved.status != 200 || acctStr(approved.body, "request", "state") != "approved" || approved.body["secret"] != nil || strings.Contains(string(approved.raw), "lk_") {
		t.Fatalf("approve: %d %s", approved.status, approved.raw)
	}
	expect(t, "approve twice", send(t, op, "POST", approveURL, nil), 409, "conflict")
	expect(t, "approve twice by the former name", send(t, op, "POST", s.URL+"/v1/scim-key-requests/"+reqID+"/issue", nil), 409, "conflict")
	if l := acctIDs(send(t, op, "GET", s.URL+"/v1/scim-key-requests", nil), "id"); len(l) != 0 {
		t.Errorf("the queue after approving = %v", l)
	}
	expect(t, "a member picks up", send(t, mo, "POST", pickupURL, nil), 403, "forbidden")
	expect(t, "the operator picks up", send(t, op, "POST", pickupURL, nil), 403, "forbidden")
	expect(t, "pick up with a body", send(t, greg, "POST", pickupURL, map[string]any{"name": "x"}), 400, "invalid_request")
	expect(t, "pick up an unknown request", send(t, greg, "POST", globexURL+"/scim-key-requests/skr_01ARZ3NDEKTSV4RRFFQ69G5FAV/pickup", nil), 404, "not_found")

	issued := send(t, greg, "POST", pickupURL, nil)
	if issued.status != 201 || issued.header.Get("Cache-Control") != "no-store" {
		t.Fatalf("pickup: %d %s", issued.status, issued.raw)
	}
	key, secret := acctObj(issued.body["key"]), acctStr(issued.body, "secret")
	if key["type"] != "scim" || key["workspace_id"] != globexID || key["owner"] != "workspace" ||
		acctStr(key, "settings", "integration") != "okta" || acctStr(key, "settings", "contact_email") != "it@globex.example" {
		t.Errorf("picked-up key = %s", issued.raw)
	}
	got := send(t, acctClient(v), "POST", s.URL+"/v1/keys/verify", map[string]any{"key": secret, "type": "scim"})
	if got.status != 200 || acctStr(got.body, "key", "id") != key["id"] {
		t.Errorf("the picked-up key verifies %d %s", got.status, got.raw)
	}
	expect(t, "pick up twice", send(t, gina, "POST", pickupURL, nil), 409, "conflict")
	done := send(t, greg, "GET", globexURL+"/scim-key-requests", nil)
	if r := acctObj(done.body["data"].([]any)[0]); r["key_id"] != key["id"] || r["state"] != "picked_up" || r["issued_at"] == nil || r["approved_at"] == nil {
		t.Errorf("the picked-up request = %s", done.raw)
	}
	if got := send(t, op, "GET", globexURL+"/scim-key-requests", nil); strings.Contains(string(got.raw), secret) {
		t.Errorf("the operator's view of the requests shows the secret: %s", got.raw)
	}
	evs := acctEvents(t, gina, globexURL, "scim_key.")
	if len(evs) != 3 || acctStr(evs[0], "action") != "scim_key.picked_up" || acctStr(evs[0], "actor", "label") != "greg@globex.example" ||
		acctStr(evs[1], "action") != "scim_key.approved" || acctStr(evs[1], "actor", "type") != "operator" ||
		acctStr(evs[2], "action") != "scim_key.requested" || acctStr(evs[2], "actor", "label") != "greg@globex.example" {
		t.Errorf("scim_key events = %v", evs)
	}

	// What operators may see and may not do in a workspace.
	list := send(t, op, "GET", globexURL+"/keys", nil)
	if list.status != 200 || !slices.Contains(acctIDs(list, "id"), acctStr(key, "id")) || strings.Contains(string(list.raw), "secret") || strings.Contains(string(list.raw), secret) {
		t.Errorf("the operator's key list: %d %s", list.status, list.raw)
	}
	if got := send(t, op, "GET", globexURL+"/keys/"+acctStr(key, "id"), nil); got.status != 200 || strings.Contains(string(got.raw), secret) {
		t.Errorf("the operator reads the key: %d %s", got.status, got.raw)
	}
	members := send(t, op, "GET", globexURL+"/members", nil)
	if members.status != 200 || strings.Contains(strings.ToLower(string(members.raw)), "password") || strings.Contains(string(members.raw), "$argon2") {
		t.Errorf("the operator's member list: %d %s", members.status, members.raw)
	}
	expect(t, "the operator reads settings", send(t, op, "GET", globexURL+"/settings", nil), 200, "")
	unknownWS := s.URL + "/v1/workspaces/ws_01ARZ3NDEKTSV4RRFFQ69G5FAV"
	for _, path := range []string{"/settings", "/keys", "/members"} {
		expect(t, "the operator reads "+path+" of no workspace", send(t, op, "GET", unknownWS+path, nil), 404, "not_found")
	}
	t.Run("requests of no workspace", func(t *testing.T) {
		expect(t, "the operator lists the requests of no workspace", send(t, op, "GET", unknownWS+"/scim-key-requests", nil), 404, "not_found")
	})
	expect(t, "the operator creates a public_api key", send(t, op, "POST", globexURL+"/keys", map[string]any{"name": "backdoor"}), 403, "forbidden")
	expect(t, "the operator creates a scim key directly", send(t, op, "POST", globexURL+"/keys", map[string]any{"name": "okta", "type": "scim"}), 403, "forbidden")
	expect(t, "the operator resets a key", send(t, op, "POST", globexURL+"/keys/"+acctStr(key, "id")+"/reset", nil), 403, "forbidden")
	expect(t, "the operator revokes a key", send(t, op, "POST", globexURL+"/keys/"+acctStr(key, "id")+"/revoke", nil), 403, "forbidden")
	expect(t, "the operator changes settings", send(t, op, "PATCH", globexURL+"/settings", map[string]any{"scim_key_issuance": "admins"}), 403, "forbidden")
	expect(t, "the operator adds a member", send(t, op, "POST", globexURL+"/members", map[string]any{"email": "spy@vendor.example"}), 403, "forbidden")
	expect(t, "the operator removes a member", send(t, op, "DELETE", globexURL+"/members/"+acctStr(globex.body, "owner", "user_id"), nil), 403, "forbidden")
	expect(t, "the operator reads the log", send(t, op, "GET", globexURL+"/events", nil), 403, "forbidden")
	expect(t, "the operator after logout", send(t, op, "POST", s.URL+"/v1/auth/logout", nil), 204, "")
	expect(t, "the operator's session ended", send(t, op, "GET", s.URL+"/v1/workspaces", nil), 401, "unauthenticated")
	if got := send(t, acme, "GET", acmeURL+"/settings", nil); got.body["scim_key_issuance"] != "admins" {
		t.Errorf("Acme's settings changed: %s", got.raw)
	}
	v.ReportCoverage(t, false)
}
