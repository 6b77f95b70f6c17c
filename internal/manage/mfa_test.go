package manage_test

import (
	"context"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// TestSecondFactorWithInjectedClock enrols TOTP, then signs in with codes
// computed at the service's clock: a code works once, one from two steps
// away does not, a recovery code works once, and until the second step is
// done the first factor's session opens nothing.
func TestSecondFactorWithInjectedClock(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, tok, err := e.svc.Login(ctx, "owner@acme.test", ownerPassword, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.SessionCaller(ctx, tok, "192.0.2.1")
	if err != nil {
		t.Fatalf("SessionCaller before any factor: %v", err)
	}
	setup, err := e.svc.StartTOTP(ctx, c)
	if err != nil {
		t.Fatal(err)
	}
	code := func(at time.Time) string {
		s, err := totp.GenerateCode(setup.Secret, at)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	if _, _, err := e.svc.ConfirmTOTP(ctx, c, tok, "000000"); latchkey.ErrorCode(err) != latchkey.EINVALID && code(e.clock.Now()) != "000000" {
		t.Fatalf("ConfirmTOTP(wrong code): got %v, want EINVALID", err)
	}
	recovery, _, err := e.svc.ConfirmTOTP(ctx, c, tok, code(e.clock.Now()))
	if err != nil || len(recovery) != 10 {
		t.Fatalf("ConfirmTOTP: got %d codes, %v; want 10", len(recovery), err)
	}

	login := func() string {
		t.Helper()
		_, tok, err := e.svc.Login(ctx, "owner@acme.test", ownerPassword, "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	pending := login()
	// The attack: the first factor's session calls the API as if complete.
	if _, err := e.svc.SessionCaller(ctx, pending, "192.0.2.1"); latchkey.ErrorCode(err) != latchkey.EUNAUTHORIZED {
		t.Fatalf("SessionCaller with only the password: got %v, want EUNAUTHORIZED", err)
	}
	if _, err := e.svc.SessionUser(ctx, pending); latchkey.ErrorCode(err) != latchkey.EUNAUTHORIZED {
		t.Fatalf("SessionUser with only the password: got %v, want EUNAUTHORIZED", err)
	}
	if _, err := e.svc.EnrolmentCaller(ctx, pending, "192.0.2.1"); latchkey.ErrorCode(err) != latchkey.EUNAUTHORIZED {
		t.Fatalf("EnrolmentCaller with only the password (replacing the factor): got %v, want EUNAUTHORIZED", err)
	}

	// The code used to enrol was used: it does not sign in again.
	if _, _, err := e.svc.SecondFactor(ctx, pending, code(e.clock.Now()), "192.0.2.1"); latchkey.ErrorCode(err) != latchkey.EUNAUTHORIZED {
		t.Fatalf("SecondFactor(code used at enrolment): got %v, want EUNAUTHORIZED", err)
	}
	e.clock.Add(90 * time.Second) // three steps later
	if _, _, err := e.svc.SecondFactor(ctx, pending, code(e.clock.Now().Add(-90*time.Second)), "192.0.2.1"); latchkey.ErrorCode(err) != latchkey.EUNAUTHORIZED {
		t.Fatalf("SecondFactor(code of three steps ago): got %v, want EUNAUTHORIZED", err)
	}
	_, full, err := e.svc.SecondFactor(ctx, pending, code(e.clock.Now()), "192.0.2.1")
	if err != nil {
		t.Fatalf("SecondFactor(current code): %v", err)
	}
	if _, err := e.svc.SessionCaller(ctx, full, "192.0.2.1"); err != nil {
		t.Fatalf("SessionCaller after the second factor: %v", err)
	}
	if _, err := e.svc.SessionCaller(ctx, pending, "192.0.2.1"); latchkey.ErrorCode(err) != latchkey.EUNAUTHORIZED {
		t.Fatalf("the pending session after it finished: got %v, want it ended", err)
	}
	// The same code again, on another sign-in: refused.
	again := login()
	if _, _, err := e.svc.SecondFactor(ctx, again, code(e.clock.Now()), "192.0.2.1"); latchkey.ErrorCode(err) != latchkey.EUNAUTHORIZED {
		t.Fatalf("SecondFactor(replayed code): got %v, want EUNAUTHORIZED", err)
	}
	// A recovery code works once, written any case with or without dash.
	if _, _, err := e.svc.SecondFactor(ctx, again, recovery[0], "192.0.2.1"); err != nil {
		t.Fatalf("SecondFactor(recovery code): %v", err)
	}
	third := login()
	if _, _, err := e.svc.SecondFactor(ctx, third, recovery[0], "192.0.2.1"); latchkey.ErrorCode(err) != latchkey.EUNAUTHORIZED {
		t.Fatalf("SecondFactor(recovery code twice): got %v, want EUNAUTHORIZED", err)
	}
	st, err := e.svc.MFA(ctx, c)
	if err != nil || !st.TOTP || st.RecoveryCodesLeft != 9 {
		t.Fatalf("MFA: got %+v, %v; want TOTP on and 9 codes left", st, err)
	}
	evs, _, err := e.store.Events(ctx, latchkey.EventFilter{WorkspaceID: e.ws, Action: latchkey.EventMFAFailed, Limit: 50})
	if err != nil || len(evs) < 3 {
		t.Fatalf("mfa.failed events: got %d, %v; want every wrong code recorded", len(evs), err)
	}
}

// TestSecondFactorThrottled: guesses at the second step lock like
// passwords, so a stolen password does not buy a million TOTP guesses.
func TestSecondFactorThrottled(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	_, tok, _ := e.svc.Login(ctx, "owner@acme.test", ownerPassword, "192.0.2.1")
	c, _ := e.svc.SessionCaller(ctx, tok, "192.0.2.1")
	setup, _ := e.svc.StartTOTP(ctx, c)
	now, _ := totp.GenerateCode(setup.Secret, e.clock.Now())
	if _, _, err := e.svc.ConfirmTOTP(ctx, c, tok, now); err != nil {
		t.Fatal(err)
	}
	e.clock.Add(30 * time.Second)
	_, pending, _ := e.svc.Login(ctx, "owner@acme.test", ownerPassword, "192.0.2.1")
	var err error
	for i := 0; i < 20 && latchkey.ErrorCode(err) != latchkey.ERATELIMITED; i++ {
		_, _, err = e.svc.SecondFactor(ctx, pending, "wrong-guess", "198.51.100."+string(rune('1'+i%9)))
	}
	if latchkey.ErrorCode(err) != latchkey.ERATELIMITED {
		t.Fatalf("20 wrong codes from several addresses: got %v, want ERATELIMITED", err)
	}
	right, _ := totp.GenerateCode(setup.Secret, e.clock.Now())
	if _, _, err := e.svc.SecondFactor(ctx, pending, right, "192.0.2.1"); latchkey.ErrorCode(err) != latchkey.ERATELIMITED {
		t.Fatalf("the right code while locked: got %v, want ERATELIMITED", err)
	}
}

// TestRequireSecondFactorTakesMembersToEnrolment: with the workspace
// setting on, a member without a factor gets a session that only enrols.
func TestRequireSecondFactorTakesMembersToEnrolment(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	on := true
	if _, err := e.svc.UpdateSettings(ctx, e.owner, e.ws, manage.SettingsPatch{RequireSecondFactor: &on}); err != nil {
		t.Fatal(err)
	}
	_, tok, err := e.svc.Login(ctx, "owner@acme.test", ownerPassword, "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SessionCaller(ctx, tok, "192.0.2.1"); latchkey.ErrorCode(err) != latchkey.EUNAUTHORIZED {
		t.Fatalf("SessionCaller before enrolment: got %v, want EUNAUTHORIZED", err)
	}
	c, err := e.svc.EnrolmentCaller(ctx, tok, "192.0.2.1")
	if err != nil {
		t.Fatalf("EnrolmentCaller: %v", err)
	}
	setup, _ := e.svc.StartTOTP(ctx, c)
	code, _ := totp.GenerateCode(setup.Secret, e.clock.Now())
	_, full, err := e.svc.ConfirmTOTP(ctx, c, tok, code)
	if err != nil || full == "" {
		t.Fatalf("ConfirmTOTP: %q, %v; want a complete session", full, err)
	}
	if _, err := e.svc.SessionCaller(ctx, full, "192.0.2.1"); err != nil {
		t.Fatalf("SessionCaller after enrolment: %v", err)
	}
	c2, _ := e.svc.SessionCaller(ctx, full, "192.0.2.1")
	e.clock.Add(30 * time.Second)
	code, _ = totp.GenerateCode(setup.Secret, e.clock.Now())
	if err := e.svc.RemoveTOTP(ctx, c2, code); latchkey.ErrorCode(err) != latchkey.EFORBIDDEN {
		t.Fatalf("RemoveTOTP where one is required: got %v, want EFORBIDDEN", err)
	}
}
