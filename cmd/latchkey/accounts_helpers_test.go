package main

import (
	"bytes"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

// End-to-end tests of accounts and access control (members, roles,
// personal keys, management keys, settings, tenants, login throttling)
// through the real wiring, every exchange validated against openapi.json.

// acctPassword is a password the policy accepts, for the users the tests
// create.
const acctPassword = "Violet-Canyon-Ledger-58"

// acctClient returns a validated client with its own cookie jar.
func acctClient(v *apitest.Validator) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		panic(err)
	}
	return v.Client(&http.Client{Jar: jar, Timeout: 15 * time.Second})
}

// acctLogin logs email in and returns a validated client holding the session.
func acctLogin(t *testing.T, v *apitest.Validator, base, email, pw string) *http.Client {
	t.Helper()
	hc := acctClient(v)
	got := send(t, hc, "POST", base+"/v1/auth/login", map[string]string{"email": email, "password": pw})
	if got.status == http.StatusAccepted && got.body["pending"] == "enrolment" {
		enrolTOTP(t, hc, base)
		return hc
	}
	if got.status != 200 {
		t.Fatalf("login as %s: %d %s", email, got.status, got.raw)
	}
	return hc
}

// acctOperator creates a platform operator with the CLI, on the store of a
// running server (SQLite in WAL mode lets both write).
func acctOperator(t *testing.T, dataDir, email, pw string) {
	t.Helper()
	pwFile := filepath.Join(t.TempDir(), "operator-password")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	args := []string{"operator", "create", "--data-dir", dataDir, "--email", email, "--password-file", pwFile}
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("latchkey operator create: exit %d, stderr %q", code, errb.String())
	}
}

// acctObj returns x as a JSON object (nil when it is not one).
func acctObj(x any) map[string]any {
	m, _ := x.(map[string]any)
	return m
}

// acctStr returns the string at the path of keys in x ("" when absent).
func acctStr(x any, path ...string) string {
	for _, k := range path {
		x = acctObj(x)[k]
	}
	s, _ := x.(string)
	return s
}

// acctIDs returns the field of every row of a list answer.
func acctIDs(e exchange, field string) []string {
	list, _ := e.body["data"].([]any)
	out := []string{}
	for _, x := range list {
		out = append(out, acctStr(x, field))
	}
	return out
}

// acctDetail returns the answer's error.details[name].
func acctDetail(e exchange, name string) any {
	return acctObj(acctObj(e.body["error"])["details"])[name]
}

// acctMe returns the roles of the caller's workspaces, by workspace id.
func acctMe(t *testing.T, hc *http.Client, base string) map[string]string {
	t.Helper()
	got := send(t, hc, "GET", base+"/v1/me", nil)
	if got.status != 200 {
		t.Fatalf("GET /v1/me: %d %s", got.status, got.raw)
	}
	roles := map[string]string{}
	for _, w := range got.body["workspaces"].([]any) {
		roles[acctStr(w, "id")] = acctStr(w, "role")
	}
	return roles
}

// acctAddMember invites a member and fails the test unless the answer is
// 201. With a "password" in, the invitee then accepts the invitation with
// it, as a new person does, so that they can log in.
func acctAddMember(t *testing.T, hc *http.Client, wsURL string, in map[string]any) exchange {
	t.Helper()
	body := maps.Clone(in)
	pw, _ := body["password"].(string)
	delete(body, "password")
	got := send(t, hc, "POST", wsURL+"/members", body)
	if got.status != 201 {
		t.Fatalf("adding %v: %d %s", in, got.status, got.raw)
	}
	if pw != "" {
		base := wsURL[:strings.Index(wsURL, "/v1/")]
		acctAccept(t, acctClient(apitest.New(t)), base, acctStr(got.body, "invite_token"), pw)
	}
	return got
}

// acctAccept accepts an invitation with a new password as an anonymous
// person and fails the test unless it is accepted.
func acctAccept(t *testing.T, hc *http.Client, base, token, pw string) exchange {
	t.Helper()
	got := send(t, hc, "POST", base+"/v1/auth/accept-invite", map[string]string{"token": token, "password": pw})
	if got.status != 200 {
		t.Fatalf("accepting invite: %d %s", got.status, got.raw)
	}
	return got
}

// acctCreateKey creates a key and fails the test unless the answer is 201; it
// returns the key id and the secret.
func acctCreateKey(t *testing.T, hc *http.Client, wsURL string, in map[string]any, headers ...string) (string, string) {
	t.Helper()
	got := send(t, hc, "POST", wsURL+"/keys", in, headers...)
	if got.status != 201 {
		t.Fatalf("creating key %v: %d %s", in, got.status, got.raw)
	}
	return acctStr(got.body, "key", "id"), acctStr(got.body, "secret")
}

// acctEvents lists the workspace's events with the given action.
func acctEvents(t *testing.T, hc *http.Client, wsURL, action string) []map[string]any {
	t.Helper()
	got := send(t, hc, "GET", wsURL+"/events?limit=200&action="+action, nil)
	if got.status != 200 {
		t.Fatalf("events %s: %d %s", action, got.status, got.raw)
	}
	var out []map[string]any
	for _, e := range got.body["data"].([]any) {
		out = append(out, acctObj(e))
	}
	return out
}

func acctVerify(t *testing.T, base, secret string) (int, string) {
	t.Helper()
	got := send(t, apitest.New(t).Client(nil), "POST", base+"/v1/keys/verify", map[string]any{"key": secret})
	return got.status, got.errCode()
}
