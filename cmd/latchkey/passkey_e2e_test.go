package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/api/apitest"
	"github.com/latchkey/latchkey/internal/manage/passkeytest"
)

// passkeyCreate registers a passkey of a through the API for the session
// of hc and returns its id.
func passkeyCreate(t *testing.T, hc *http.Client, base string, a *passkeytest.Authenticator, name string) string {
	t.Helper()
	got := send(t, hc, "POST", base+"/v1/me/mfa/passkeys/register/begin", nil)
	if got.status != http.StatusOK {
		t.Fatalf("register/begin: %d %s", got.status, got.raw)
	}
	answer, _, err := a.Create(got.raw)
	if err != nil {
		t.Fatal(err)
	}
	got = send(t, hc, "POST", base+"/v1/me/mfa/passkeys/register/finish", map[string]any{"name": name, "credential": json.RawMessage(answer)})
	if got.status != http.StatusCreated {
		t.Fatalf("register/finish: %d %s", got.status, got.raw)
	}
	return got.body["id"].(string)
}

// passkeyGet answers the options of begin with a and posts the answer to
// finish, returning finish's answer.
func passkeyGet(t *testing.T, hc *http.Client, base, begin, finish string, a *passkeytest.Authenticator) (exchange, []byte) {
	t.Helper()
	got := send(t, hc, "POST", base+begin, nil)
	if got.status != http.StatusOK {
		t.Fatalf("%s: %d %s", begin, got.status, got.raw)
	}
	answer, err := a.Get(got.raw, nil)
	if err != nil {
		t.Fatal(err)
	}
	return send(t, hc, "POST", base+finish, map[string]any{"credential": json.RawMessage(answer)}), answer
}

// TestPasskeyAPI registers a passkey, signs in with it alone and as the
// second factor after a password, and tries what an attacker would: a
// replayed answer, a ceremony finished from another session, another
// member listing, renaming or removing the passkey.
func TestPasskeyAPI(t *testing.T) {
	s := startPasskeyServer(t)
	v := apitest.New(t)
	owner := acctLogin(t, v, s.URL, s.OwnerEmail, s.OwnerPassword)
	ws := s.URL + "/v1/workspaces/" + s.WorkspaceID
	acctAddMember(t, owner, ws, map[string]any{"email": "admin@example.com", "role": "admin", "password": acctPassword})
	admin := acctLogin(t, v, s.URL, "admin@example.com", acctPassword)

	a := passkeytest.New(s.URL)
	id := passkeyCreate(t, owner, s.URL, a, "Laptop")
	if got := send(t, owner, "GET", s.URL+"/v1/me/mfa/passkeys", nil); got.status != 200 || len(acctIDs(got, "id")) != 1 {
		t.Fatalf("GET passkeys: %d %s", got.status, got.raw)
	}
	if got := send(t, owner, "GET", s.URL+"/v1/me/mfa", nil); got.body["passkeys"] != float64(1) {
		t.Fatalf("GET /v1/me/mfa: %s, want one passkey", got.raw)
	}

	// Passwordless.
	anon := acctClient(v)
	got, answer := passkeyGet(t, anon, s.URL, "/v1/auth/passkey/begin", "/v1/auth/passkey/finish", a)
	if got.status != 200 {
		t.Fatalf("passkey sign-in: %d %s", got.status, got.raw)
	}
	if me := send(t, anon, "GET", s.URL+"/v1/me", nil); me.status != 200 {
		t.Fatalf("GET /v1/me after a passkey sign-in: %d %s", me.status, me.raw)
	}
	// The same answer again: its challenge was taken.
	replay := acctClient(v)
	send(t, replay, "POST", s.URL+"/v1/auth/passkey/begin", nil)
	got = send(t, replay, "POST", s.URL+"/v1/auth/passkey/finish", map[string]any{"credential": json.RawMessage(answer)})
	expect(t, "replayed passkey answer", got, 401, "unauthenticated")
	got = send(t, acctClient(v), "POST", s.URL+"/v1/auth/passkey/finish", map[string]any{"credential": json.RawMessage(answer)})
	expect(t, "passkey answer without the attempt's cookie", got, 401, "unauthenticated")
	got = send(t, acctClient(v), "POST", s.URL+"/v1/auth/passkey/finish", `{"credential":"nope"}`)
	expect(t, "passkey answer that is not an object", got, 400, "invalid_request")

	// After a password, the passkey is the second factor.
	pending := acctClient(v)
	got = send(t, pending, "POST", s.URL+"/v1/auth/login", map[string]string{"email": s.OwnerEmail, "password": s.OwnerPassword})
	if got.status != 202 || got.body["pending"] != "second_factor" {
		t.Fatalf("password login of an account with a passkey: %d %s", got.status, got.raw)
	}
	got, _ = passkeyGet(t, pending, s.URL, "/v1/auth/second-factor/passkey/begin", "/v1/auth/second-factor/passkey/finish", a)
	if got.status != 200 {
		t.Fatalf("passkey second factor: %d %s", got.status, got.raw)
	}

	// A registration begun in one session is not finished in another.
	got = send(t, owner, "POST", s.URL+"/v1/me/mfa/passkeys/register/begin", nil)
	created, _, _ := a.Create(got.raw)
	got = send(t, pending, "POST", s.URL+"/v1/me/mfa/passkeys/register/finish", map[string]any{"credential": json.RawMessage(created)})
	expect(t, "registration finished from another session", got, 401, "unauthenticated")

	// Another member, an admin of the same workspace, sees none of it.
	if got := send(t, admin, "GET", s.URL+"/v1/me/mfa/passkeys", nil); got.status != 200 || len(acctIDs(got, "id")) != 0 {
		t.Fatalf("admin lists passkeys: %d %s, want none", got.status, got.raw)
	}
	expect(t, "admin renames the owner's passkey", send(t, admin, "PATCH", s.URL+"/v1/me/mfa/passkeys/"+id, `{"name":"mine"}`), 404, "not_found")
	expect(t, "admin removes the owner's passkey", send(t, admin, "POST", s.URL+"/v1/me/mfa/passkeys/"+id+"/remove", map[string]string{"password": acctPassword}), 404, "not_found")

	// Nor does the owner of another workspace, nor an operator.
	acctOperator(t, s.DataDir, "support@vendor.example", acctPassword)
	op := acctLogin(t, v, s.URL, "support@vendor.example", acctPassword)
	evil := send(t, op, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "Evil Corp", "owner": map[string]any{"email": "mallory@evil.example"}})
	if evil.status != 201 {
		t.Fatalf("creating Evil Corp: %d %s", evil.status, evil.raw)
	}
	acctAccept(t, acctClient(v), s.URL, acctStr(evil.body, "invite_token"), acctPassword)
	mallory := acctLogin(t, v, s.URL, "mallory@evil.example", acctPassword)
	for who, hc := range map[string]*http.Client{"another workspace's owner": mallory, "an operator": op} {
		if got := send(t, hc, "GET", s.URL+"/v1/me/mfa/passkeys", nil); got.status != 200 || len(acctIDs(got, "id")) != 0 {
			t.Fatalf("%s lists passkeys: %d %s, want none", who, got.status, got.raw)
		}
		expect(t, who+" renames the owner's passkey", send(t, hc, "PATCH", s.URL+"/v1/me/mfa/passkeys/"+id, `{"name":"mine"}`), 404, "not_found")
		expect(t, who+" removes the owner's passkey", send(t, hc, "POST", s.URL+"/v1/me/mfa/passkeys/"+id+"/remove", map[string]string{"password": acctPassword}), 404, "not_found")
	}

	if got := send(t, owner, "PATCH", s.URL+"/v1/me/mfa/passkeys/"+id, `{"name":"Work laptop"}`); got.status != 200 || got.body["name"] != "Work laptop" {
		t.Fatalf("rename: %d %s", got.status, got.raw)
	}
	expect(t, "remove with a wrong password", send(t, owner, "POST", s.URL+"/v1/me/mfa/passkeys/"+id+"/remove", map[string]string{"password": "wrong"}), 400, "invalid_request")
	if got := send(t, owner, "POST", s.URL+"/v1/me/mfa/passkeys/"+id+"/remove", map[string]string{"password": s.OwnerPassword}); got.status != 204 {
		t.Fatalf("remove: %d %s", got.status, got.raw)
	}
	for _, action := range []string{"mfa.passkey_added", "mfa.passkey_removed"} {
		evs := send(t, owner, "GET", ws+"/events?action="+action, nil)
		if len(acctIDs(evs, "id")) != 1 {
			t.Fatalf("%s events: %s, want one", action, evs.raw)
		}
	}
}

// startPasskeyServer starts a server whose public URL names localhost, a
// host name browsers accept as a passkey's relying party (an IP address
// is not one). The port is found free first, then the server binds it.
func startPasskeyServer(t *testing.T) *testServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	s := startServerWith(t, func(cfg *Config) {
		cfg.Addr = fmt.Sprintf("127.0.0.1:%d", port)
		cfg.PublicURL = fmt.Sprintf("http://localhost:%d", port)
	})
	s.URL = fmt.Sprintf("http://localhost:%d", port)
	return s
}

// TestPasskeysOffWithoutHostName: a server reached at an IP address (no
// --public-url) answers passkey requests 422, naming the flag.
func TestPasskeysOffWithoutHostName(t *testing.T) {
	s := startServer(t)
	v := apitest.New(t)
	got := send(t, acctClient(v), "POST", s.URL+"/v1/auth/passkey/begin", nil)
	expect(t, "passkey sign-in on an IP address", got, 422, "unprocessable")
	if !strings.Contains(string(got.raw), "--public-url") {
		t.Fatalf("the refusal does not name --public-url: %s", got.raw)
	}
}
