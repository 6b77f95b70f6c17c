package manage_test

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/manage/managetest"
	"github.com/latchkey/latchkey/internal/manage/passkeytest"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/token"
)

const passkeyOrigin = "https://keys.example.test"

// passkeyEnv is a service reached at passkeyOrigin with two members of
// one workspace, the owner and bob, and a stranger in another workspace.
type passkeyEnv struct {
	svc      *manage.Service
	store    *sqlite.DB
	clock    *clock
	ws       string
	owner    latchkey.Principal
	ctx      context.Context
	bobPW    string
	bobEmail string
}

func newPasskeyEnv(t *testing.T) *passkeyEnv {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	format, _ := token.NewFormat("lk")
	svc := manage.New(manage.Config{Store: store, Format: format, Now: c.Now, SignIn: manage.SignInConfig{PublicURL: passkeyOrigin}})
	first, err := svc.Init(ctx, "Acme", ownerEmail, ownerPassword)
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Principal(ctx, manage.Caller{User: first.Owner, IP: "192.0.2.1"}, first.Workspace.ID)
	if err != nil {
		t.Fatal(err)
	}
	e := &passkeyEnv{svc: svc, store: store, clock: c, ws: first.Workspace.ID, owner: p, ctx: ctx,
		bobEmail: "bob@acme.test", bobPW: "bob's long enough password"}
	managetest.Join(t, svc, p, e.ws, manage.AddMember{Email: e.bobEmail, Role: latchkey.RoleMember}, e.bobPW)
	return e
}

// session logs in with a password and returns the session token and its
// caller (nil while it waits for a second factor).
func (e *passkeyEnv) session(t *testing.T, email, pw string) (string, *manage.Caller) {
	t.Helper()
	_, tok, err := e.svc.Login(e.ctx, email, pw, "192.0.2.1")
	if err != nil {
		t.Fatalf("Login(%s): %v", email, err)
	}
	c, err := e.svc.SessionCaller(e.ctx, tok, "192.0.2.1")
	if err != nil {
		return tok, nil
	}
	return tok, &c
}

func optionsJSON(t *testing.T, o *manage.PasskeyOptions) []byte {
	t.Helper()
	b, err := json.Marshal(o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// register adds a passkey held by a for the session's caller.
func (e *passkeyEnv) register(t *testing.T, a *passkeytest.Authenticator, tok string, c manage.Caller, name string) (*latchkey.Passkey, *passkeytest.Credential) {
	t.Helper()
	o, err := e.svc.BeginPasskeyRegistration(e.ctx, c, tok)
	if err != nil {
		t.Fatalf("BeginPasskeyRegistration: %v", err)
	}
	answer, cred, err := a.Create(optionsJSON(t, o))
	if err != nil {
		t.Fatal(err)
	}
	pk, _, err := e.svc.FinishPasskeyRegistration(e.ctx, c, tok, name, answer)
	if err != nil {
		t.Fatalf("FinishPasskeyRegistration: %v", err)
	}
	return pk, cred
}

func (e *passkeyEnv) actions(t *testing.T, action string) int {
	t.Helper()
	evs, _, err := e.svc.Events(e.ctx, e.owner, e.ws, latchkey.EventFilter{Action: action, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	return len(evs)
}

func (e *passkeyEnv) requireSecondFactor(t *testing.T, on bool) {
	t.Helper()
	if _, err := e.svc.UpdateSettings(e.ctx, e.owner, e.ws, manage.SettingsPatch{RequireSecondFactor: &on}); err != nil {
		t.Fatal(err)
	}
}

func wantErrCode(t *testing.T, what string, err error, code latchkey.Code) {
	t.Helper()
	if latchkey.ErrorCode(err) != code {
		t.Fatalf("%s: got %v, want %s", what, err, code)
	}
}

// TestPasskeyPasswordlessAndSecondFactor registers a passkey, signs in
// with it alone, and uses it as the second factor after a password.
func TestPasskeyPasswordlessAndSecondFactor(t *testing.T) {
	e := newPasskeyEnv(t)
	a := passkeytest.New(passkeyOrigin)
	tok, c := e.session(t, ownerEmail, ownerPassword)
	pk, _ := e.register(t, a, tok, *c, "Laptop")
	if pk.Name != "Laptop" || e.actions(t, latchkey.EventPasskeyAdded) != 1 {
		t.Fatalf("registered %+v; events %d, want one %s", pk, e.actions(t, latchkey.EventPasskeyAdded), latchkey.EventPasskeyAdded)
	}
	st, err := e.svc.MFA(e.ctx, *c)
	if err != nil || st.Passkeys != 1 {
		t.Fatalf("MFA: got %+v, %v, want one passkey", st, err)
	}

	// Passwordless: a complete session at once.
	o, attempt, err := e.svc.BeginPasskeyLogin(e.ctx, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	answer, err := a.Get(optionsJSON(t, o), nil)
	if err != nil {
		t.Fatal(err)
	}
	u, full, err := e.svc.FinishPasskeyLogin(e.ctx, attempt, answer, "192.0.2.1")
	if err != nil || u.Email != ownerEmail {
		t.Fatalf("FinishPasskeyLogin: got %v, %v", u, err)
	}
	if c, err := e.svc.SessionCaller(e.ctx, full, "192.0.2.1"); err != nil || c.SignIn.Method != latchkey.SignInPasskey {
		t.Fatalf("SessionCaller(passkey session): got %+v, %v", c.SignIn, err)
	}

	// The passkey is a second factor: a password alone now waits for it.
	pending, c2 := e.session(t, ownerEmail, ownerPassword)
	if c2 != nil {
		t.Fatal("a password alone opened a session of an account with a passkey")
	}
	if _, _, err := e.svc.PasskeySecondFactor(e.ctx, pending, answer, "192.0.2.1"); latchkey.ErrorCode(err) != latchkey.EUNAUTHORIZED {
		t.Fatalf("PasskeySecondFactor before beginning: got %v, want EUNAUTHORIZED", err)
	}
	o, err = e.svc.BeginPasskeySecondFactor(e.ctx, pending)
	if err != nil {
		t.Fatal(err)
	}
	answer, err = a.Get(optionsJSON(t, o), nil)
	if err != nil {
		t.Fatal(err)
	}
	_, done, err := e.svc.PasskeySecondFactor(e.ctx, pending, answer, "192.0.2.1")
	if err != nil {
		t.Fatalf("PasskeySecondFactor: %v", err)
	}
	if _, err := e.svc.SessionCaller(e.ctx, done, "192.0.2.1"); err != nil {
		t.Fatalf("SessionCaller after the passkey: %v", err)
	}
}

// TestPasskeyOfAnotherUserCannotSignIn: alice's passkey answering with
// bob's user handle, or answering bob's second-factor challenge, is
// refused, and recorded.
func TestPasskeyOfAnotherUserCannotSignIn(t *testing.T) {
	e := newPasskeyEnv(t)
	a := passkeytest.New(passkeyOrigin)
	tok, c := e.session(t, ownerEmail, ownerPassword)
	_, cred := e.register(t, a, tok, *c, "Owner's key")
	bobTok, bob := e.session(t, e.bobEmail, e.bobPW)
	e.register(t, passkeytest.New(passkeyOrigin), bobTok, *bob, "Bob's key")

	// The owner's passkey signing a discoverable login as bob.
	o, attempt, _ := e.svc.BeginPasskeyLogin(e.ctx, "192.0.2.1")
	answer, err := a.Sign(cred, passkeytest.Challenge(optionsJSON(t, o)), 50, []byte(bob.User.ID))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.svc.FinishPasskeyLogin(e.ctx, attempt, answer, "192.0.2.1")
	wantErrCode(t, "FinishPasskeyLogin(user handle of another user)", err, latchkey.EUNAUTHORIZED)

	// The owner's passkey answering bob's second factor.
	pending, _ := e.session(t, e.bobEmail, e.bobPW)
	o, err = e.svc.BeginPasskeySecondFactor(e.ctx, pending)
	if err != nil {
		t.Fatal(err)
	}
	answer, err = a.Sign(cred, passkeytest.Challenge(optionsJSON(t, o)), 60, cred.UserHandle)
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = e.svc.PasskeySecondFactor(e.ctx, pending, answer, "192.0.2.1")
	wantErrCode(t, "PasskeySecondFactor(another user's passkey)", err, latchkey.EUNAUTHORIZED)
	if n := e.actions(t, latchkey.EventMFAFailed); n < 2 {
		t.Fatalf("%s events: got %d, want 2", latchkey.EventMFAFailed, n)
	}
}

// TestPasskeyReplayAndCeremonyBinding: an answer works once; a challenge
// begun in one session or login attempt is not found from another.
func TestPasskeyReplayAndCeremonyBinding(t *testing.T) {
	e := newPasskeyEnv(t)
	a := passkeytest.New(passkeyOrigin)
	tok, c := e.session(t, ownerEmail, ownerPassword)
	e.register(t, a, tok, *c, "")

	o, attempt, _ := e.svc.BeginPasskeyLogin(e.ctx, "192.0.2.1")
	answer, _ := a.Get(optionsJSON(t, o), nil)
	if _, _, err := e.svc.FinishPasskeyLogin(e.ctx, attempt, answer, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	_, _, err := e.svc.FinishPasskeyLogin(e.ctx, attempt, answer, "192.0.2.1")
	wantErrCode(t, "FinishPasskeyLogin(replayed)", err, latchkey.EUNAUTHORIZED)
	// The same answer to a fresh attempt: its challenge is not this one.
	_, attempt2, _ := e.svc.BeginPasskeyLogin(e.ctx, "192.0.2.1")
	_, _, err = e.svc.FinishPasskeyLogin(e.ctx, attempt2, answer, "192.0.2.1")
	wantErrCode(t, "FinishPasskeyLogin(answer to another challenge)", err, latchkey.EUNAUTHORIZED)
	// Another attempt's token does not finish this one.
	o, _, _ = e.svc.BeginPasskeyLogin(e.ctx, "192.0.2.1")
	answer, _ = a.Get(optionsJSON(t, o), nil)
	_, _, err = e.svc.FinishPasskeyLogin(e.ctx, "made-up-attempt", answer, "192.0.2.1")
	wantErrCode(t, "FinishPasskeyLogin(another attempt)", err, latchkey.EUNAUTHORIZED)

	// A registration begun in one session, finished in another.
	other, oc := e.session(t, e.bobEmail, e.bobPW)
	ro, err := e.svc.BeginPasskeyRegistration(e.ctx, *c, tok)
	if err != nil {
		t.Fatal(err)
	}
	created, _, _ := a.Create(optionsJSON(t, ro))
	_, _, err = e.svc.FinishPasskeyRegistration(e.ctx, *oc, other, "stolen", created)
	wantErrCode(t, "FinishPasskeyRegistration(from another session)", err, latchkey.EUNAUTHORIZED)
	// Even the same user's second session does not finish it.
	tok2, _ := e.session(t, ownerEmail, ownerPassword)
	_, _, err = e.svc.FinishPasskeyRegistration(e.ctx, *c, tok2, "other session", created)
	wantErrCode(t, "FinishPasskeyRegistration(same user, another session)", err, latchkey.EUNAUTHORIZED)
	// The expired challenge of the first session is refused too.
	e.clock.Add(6 * time.Minute)
	_, _, err = e.svc.FinishPasskeyRegistration(e.ctx, *c, tok, "late", created)
	wantErrCode(t, "FinishPasskeyRegistration(expired)", err, latchkey.EUNAUTHORIZED)
}

// TestPasskeyClonedAuthenticatorRefused: an assertion whose counter does
// not move past the stored one is refused and recorded.
func TestPasskeyClonedAuthenticatorRefused(t *testing.T) {
	e := newPasskeyEnv(t)
	a := passkeytest.New(passkeyOrigin)
	tok, c := e.session(t, ownerEmail, ownerPassword)
	_, cred := e.register(t, a, tok, *c, "")
	o, attempt, _ := e.svc.BeginPasskeyLogin(e.ctx, "192.0.2.1")
	answer, _ := a.Sign(cred, passkeytest.Challenge(optionsJSON(t, o)), 7, cred.UserHandle)
	if _, _, err := e.svc.FinishPasskeyLogin(e.ctx, attempt, answer, "192.0.2.1"); err != nil {
		t.Fatal(err)
	}
	o, attempt, _ = e.svc.BeginPasskeyLogin(e.ctx, "192.0.2.1")
	answer, _ = a.Sign(cred, passkeytest.Challenge(optionsJSON(t, o)), 7, cred.UserHandle) // the clone's counter
	_, _, err := e.svc.FinishPasskeyLogin(e.ctx, attempt, answer, "192.0.2.1")
	wantErrCode(t, "FinishPasskeyLogin(counter did not move)", err, latchkey.EUNAUTHORIZED)
	if n := e.actions(t, latchkey.EventPasskeyCloned); n != 1 {
		t.Fatalf("%s events: got %d, want 1", latchkey.EventPasskeyCloned, n)
	}
}

// TestPasskeysAreTheirOwnersOnly: another member cannot see, rename or
// remove my passkeys; removing needs the password; the last second factor
// of an account that must keep one stays.
func TestPasskeysAreTheirOwnersOnly(t *testing.T) {
	e := newPasskeyEnv(t)
	tok, c := e.session(t, ownerEmail, ownerPassword)
	pk, _ := e.register(t, passkeytest.New(passkeyOrigin), tok, *c, "Mine")
	_, bob := e.session(t, e.bobEmail, e.bobPW)
	if list, err := e.svc.Passkeys(e.ctx, *bob); err != nil || len(list) != 0 {
		t.Fatalf("Passkeys(bob): got %v, %v, want none", list, err)
	}
	_, err := e.svc.RenamePasskey(e.ctx, *bob, pk.ID, "Bob's now")
	wantErrCode(t, "RenamePasskey(another's)", err, latchkey.ENOTFOUND)
	wantErrCode(t, "RemovePasskey(another's, with his password)", e.svc.RemovePasskey(e.ctx, *bob, pk.ID, e.bobPW, ""), latchkey.ENOTFOUND)
	wantErrCode(t, "RemovePasskey(without confirming)", e.svc.RemovePasskey(e.ctx, *c, pk.ID, "", ""), latchkey.EINVALID)
	wantErrCode(t, "RemovePasskey(wrong password)", e.svc.RemovePasskey(e.ctx, *c, pk.ID, "not my password", ""), latchkey.EINVALID)
	if _, err := e.svc.RenamePasskey(e.ctx, *c, pk.ID, "Work laptop"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RenamePasskey(e.ctx, *c, pk.ID, "two\nlines"); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("RenamePasskey(two lines): got %v, want EINVALID", err)
	}

	// The workspace requires a second factor: the only one stays.
	e.requireSecondFactor(t, true)
	wantErrCode(t, "RemovePasskey(the last required factor)", e.svc.RemovePasskey(e.ctx, *c, pk.ID, ownerPassword, ""), latchkey.EFORBIDDEN)
	e.requireSecondFactor(t, false)
	if err := e.svc.RemovePasskey(e.ctx, *c, pk.ID, ownerPassword, ""); err != nil {
		t.Fatalf("RemovePasskey: %v", err)
	}
	if n := e.actions(t, latchkey.EventPasskeyRemoved); n != 1 {
		t.Fatalf("%s events: got %d, want 1", latchkey.EventPasskeyRemoved, n)
	}
}

// TestPasskeyEnrolmentCompletesSession: an account that must enrol a
// second factor may enrol a passkey, which completes its session.
func TestPasskeyEnrolmentCompletesSession(t *testing.T) {
	e := newPasskeyEnv(t)
	e.requireSecondFactor(t, true)
	tok, c := e.session(t, e.bobEmail, e.bobPW)
	if c != nil {
		t.Fatal("a session that must enrol was complete")
	}
	ec, err := e.svc.EnrolmentCaller(e.ctx, tok, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	o, err := e.svc.BeginPasskeyRegistration(e.ctx, ec, tok)
	if err != nil {
		t.Fatal(err)
	}
	answer, _, _ := passkeytest.New(passkeyOrigin).Create(optionsJSON(t, o))
	_, full, err := e.svc.FinishPasskeyRegistration(e.ctx, ec, tok, "Phone", answer)
	if err != nil || full == "" {
		t.Fatalf("FinishPasskeyRegistration while enrolling: got token %q, %v", full, err)
	}
	if _, err := e.svc.SessionCaller(e.ctx, full, "192.0.2.1"); err != nil {
		t.Fatalf("SessionCaller after enrolling a passkey: %v", err)
	}
}

// TestPasskeyWrongOrigin: an answer made for another site (a phishing
// page relaying the challenge) is refused.
func TestPasskeyWrongOrigin(t *testing.T) {
	e := newPasskeyEnv(t)
	tok, c := e.session(t, ownerEmail, ownerPassword)
	o, err := e.svc.BeginPasskeyRegistration(e.ctx, *c, tok)
	if err != nil {
		t.Fatal(err)
	}
	answer, _, _ := passkeytest.New("https://keys.example.test.evil.example").Create(optionsJSON(t, o))
	_, _, err = e.svc.FinishPasskeyRegistration(e.ctx, *c, tok, "", answer)
	wantErrCode(t, "FinishPasskeyRegistration(another origin)", err, latchkey.EINVALID)
	_, _, err = e.svc.FinishPasskeyRegistration(e.ctx, *c, tok, "", []byte(`{"id":`))
	wantErrCode(t, "FinishPasskeyRegistration(garbage)", err, latchkey.EUNAUTHORIZED) // the ceremony was taken
}

// TestPasskeyGuessesAreThrottled: a source sending forged answers for a
// passkey is refused after ten, without locking the passkey's owner out
// elsewhere; a source sending made-up passkeys is locked out like one
// spraying passwords, and then cannot even begin a passkey sign-in.
func TestPasskeyGuessesAreThrottled(t *testing.T) {
	e := newPasskeyEnv(t)
	a := passkeytest.New(passkeyOrigin)
	tok, c := e.session(t, ownerEmail, ownerPassword)
	_, cred := e.register(t, a, tok, *c, "")
	guess := func(ip string, k *passkeytest.Credential, handle []byte) error {
		o, attempt, err := e.svc.BeginPasskeyLogin(e.ctx, ip)
		if err != nil {
			return err
		}
		answer, _ := a.Sign(k, passkeytest.Challenge(optionsJSON(t, o)), 1, handle)
		_, _, err = e.svc.FinishPasskeyLogin(e.ctx, attempt, answer, ip)
		return err
	}
	for i := range 10 {
		wantErrCode(t, fmt.Sprintf("forged answer %d", i+1), guess("198.51.100.7", cred, []byte("usr_someone_else")), latchkey.EUNAUTHORIZED)
	}
	wantErrCode(t, "the 11th forged answer", guess("198.51.100.7", cred, []byte("usr_someone_else")), latchkey.ERATELIMITED)

	made := &passkeytest.Credential{ID: []byte("made-up"), RPID: cred.RPID, UserHandle: cred.UserHandle, Key: cred.Key}
	var err error
	for i := 0; i < 40 && latchkey.ErrorCode(err) != latchkey.ERATELIMITED; i++ {
		err = guess("203.0.113.9", made, made.UserHandle)
	}
	wantErrCode(t, "made-up passkeys from one source", err, latchkey.ERATELIMITED)
	_, _, err = e.svc.BeginPasskeyLogin(e.ctx, "203.0.113.9")
	wantErrCode(t, "BeginPasskeyLogin from a locked-out source", err, latchkey.ERATELIMITED)

	// The owner, elsewhere, still signs in.
	o, attempt, err := e.svc.BeginPasskeyLogin(e.ctx, "192.0.2.55")
	if err != nil {
		t.Fatal(err)
	}
	answer, _ := a.Get(optionsJSON(t, o), cred)
	if _, _, err := e.svc.FinishPasskeyLogin(e.ctx, attempt, answer, "192.0.2.55"); err != nil {
		t.Fatalf("the owner's own sign-in after the attacks: %v", err)
	}
}
