package console_test

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/console"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/manage/passkeytest"
	"github.com/latchkey/latchkey/internal/sqlite"
)

const passkeyOrigin = "https://keys.example.test"

// newPasskeyEnv is newEnv on a server people reach at passkeyOrigin, so
// that passkeys are on.
func newPasskeyEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := manage.New(manage.Config{Store: store, SignIn: manage.SignInConfig{PublicURL: passkeyOrigin}})
	first, err := svc.Init(ctx, "Acme", "owner@acme.test", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	console.New(console.Config{Service: svc, Logger: slog.New(slog.NewTextHandler(testLog{t}, nil)), PublicURL: passkeyOrigin}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p, err := svc.Principal(ctx, manage.Caller{User: first.Owner}, first.Workspace.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, store: store, srv: srv, ws: first.Workspace.ID, owner: p}
}

// sessionOf returns the console session token hc holds.
func (e *env) sessionOf(t *testing.T, hc *http.Client) string {
	t.Helper()
	u, _ := url.Parse(e.srv.URL)
	for _, ck := range hc.Jar.Cookies(u) {
		if ck.Name == manage.SessionCookie {
			return ck.Value
		}
	}
	t.Fatal("no session cookie")
	return ""
}

// addPasskey registers a passkey for the session of hc, through the
// service, as the browser's script does through the API.
func (e *env) addPasskey(t *testing.T, hc *http.Client, name string) *latchkey.Passkey {
	t.Helper()
	ctx := context.Background()
	tok := e.sessionOf(t, hc)
	c, err := e.svc.SessionCaller(ctx, tok, "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	o, err := e.svc.BeginPasskeyRegistration(ctx, c, tok)
	if err != nil {
		t.Fatal(err)
	}
	opts, _ := json.Marshal(o)
	answer, _, err := passkeytest.New(passkeyOrigin).Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	pk, _, err := e.svc.FinishPasskeyRegistration(ctx, c, tok, name, answer)
	if err != nil {
		t.Fatal(err)
	}
	return pk
}

// TestPasskeyPages: Security lists the visitor's passkeys and removes one
// with the password; another member cannot remove it; the second-factor
// step offers the passkey to those who have one only; the login page
// offers a passkey sign-in.
func TestPasskeyPages(t *testing.T) {
	e := newPasskeyEnv(t)
	owner := e.login(t, "owner@acme.test")
	pk := e.addPasskey(t, owner, "Owner YubiKey")
	sec := "/w/" + e.ws + "/profile/security"
	if a := e.get(t, owner, sec); a.status != 200 || !a.has("Owner YubiKey") || !a.has(`id="passkey-add"`) || !a.has("passkey.js") {
		t.Fatalf("GET security: %d, want the passkey listed and the add button; body %s", a.status, a.body)
	}
	if a := e.get(t, e.client(t), "/login"); !a.has(`id="passkey-login"`) {
		t.Fatalf("the login page offers no passkey sign-in: %s", a.body)
	}

	// Another member, with their own password, cannot remove it.
	e.addMember(t, "bob@acme.test", latchkey.RoleAdmin)
	bob := e.login(t, "bob@acme.test")
	if a := e.post(t, bob, sec+"/passkeys/"+pk.ID+"/remove", url.Values{"password": {testPassword}}); a.status != http.StatusNotFound {
		t.Fatalf("bob removes the owner's passkey: got %d, want 404", a.status)
	}
	if a := e.get(t, bob, sec); a.has("Owner YubiKey") {
		t.Fatal("bob's security page shows the owner's passkey")
	}
	// Nor rename it; the owner can.
	if a := e.post(t, bob, sec+"/passkeys/"+pk.ID+"/rename", url.Values{"name": {"Bob's now"}}); a.status != http.StatusNotFound {
		t.Fatalf("bob renames the owner's passkey: got %d, want 404", a.status)
	}
	if a := e.post(t, owner, sec+"/passkeys/"+pk.ID+"/rename", url.Values{"name": {"Desk YubiKey"}}); a.status != http.StatusSeeOther {
		t.Fatalf("rename: got %d, want 303; body %s", a.status, a.body)
	}
	if a := e.get(t, owner, sec+"?done=passkey-renamed"); !a.has(`value="Desk YubiKey"`) || !a.has("The passkey was renamed.") {
		t.Fatalf("after renaming: %s", a.body)
	}
	if a := e.post(t, owner, sec+"/passkeys/"+pk.ID+"/rename", url.Values{"name": {strings.Repeat("x", 101)}}); a.status != http.StatusUnprocessableEntity {
		t.Fatalf("a name of 101 characters: got %d, want 422", a.status)
	}
	if a := e.post(t, owner, sec+"/passkeys/"+pk.ID+"/rename", url.Values{"name": {"Owner YubiKey"}}); a.status != http.StatusSeeOther {
		t.Fatalf("rename back: got %d", a.status)
	}

	// Signing in again: the password waits for the passkey.
	again := e.client(t)
	resp := e.post(t, again, "/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}})
	if loc := resp.header.Get("Location"); resp.status != http.StatusSeeOther || loc == "" || loc[:len("/login/second-factor")] != "/login/second-factor" {
		t.Fatalf("login with a passkey: got %d to %q, want the second-factor step", resp.status, loc)
	}
	if a := e.get(t, again, "/login/second-factor"); !a.has(`id="passkey-second-factor"`) {
		t.Fatalf("the second-factor step does not offer the passkey: %s", a.body)
	}

	// Bob has only an authenticator app: no passkey offered.
	ctx := context.Background()
	bc, _ := e.svc.SessionCaller(ctx, e.sessionOf(t, bob), "127.0.0.1")
	setup, err := e.svc.StartTOTP(ctx, bc)
	if err != nil {
		t.Fatal(err)
	}
	code, _ := totp.GenerateCode(setup.Secret, time.Now())
	if _, _, err := e.svc.ConfirmTOTP(ctx, bc, "", code); err != nil {
		t.Fatal(err)
	}
	bob2 := e.client(t)
	e.post(t, bob2, "/login", url.Values{"email": {"bob@acme.test"}, "password": {testPassword}})
	if a := e.get(t, bob2, "/login/second-factor"); a.status != 200 || a.has(`id="passkey-second-factor"`) {
		t.Fatalf("the second-factor step of an account without a passkey: %d, offers one: %v", a.status, a.has(`id="passkey-second-factor"`))
	}

	// Removing needs the password.
	if a := e.post(t, owner, sec+"/passkeys/"+pk.ID+"/remove", url.Values{"password": {"not it"}}); a.status != http.StatusUnprocessableEntity || !a.has("Owner YubiKey") {
		t.Fatalf("remove with a wrong password: got %d, want 422 with the passkey still listed", a.status)
	}
	if a := e.post(t, owner, sec+"/passkeys/"+pk.ID+"/remove", url.Values{"password": {testPassword}}); a.status != http.StatusSeeOther {
		t.Fatalf("remove: got %d, want 303; body %s", a.status, a.body)
	}
	if a := e.get(t, owner, sec+"?done=passkey-removed"); a.has("Owner YubiKey") || !a.has("The passkey was removed.") {
		t.Fatalf("after removing: %s", a.body)
	}
}
