package storetest

import (
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func testSignIn(t *testing.T, open func(t *testing.T) latchkey.Store) {
	f := newFixture(t, open)
	ws, owner := f.workspace("Acme", "owner@acme.test")
	ev := func(action string) []latchkey.Event { return []latchkey.Event{f.event(ws.ID, action, owner.ID)} }

	t.Run("sessions", func(t *testing.T) {
		old := &latchkey.Session{Hash: sha256.Sum256([]byte("pending")), UserID: owner.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		wantCode(t, "CreateSignInSession", f.s.CreateSignInSession(f.ctx, old, latchkey.SignIn{Method: latchkey.SignInSSO, Pending: latchkey.PendingSecondFactor, SSOWorkspaceID: ws.ID}), "")
		_, in, err := f.s.SignInSession(f.ctx, old.Hash, now)
		wantCode(t, "SignInSession", err, "")
		wantSame(t, "SignIn", in, &latchkey.SignIn{Method: latchkey.SignInSSO, Pending: latchkey.PendingSecondFactor, SSOWorkspaceID: ws.ID})

		plain := &latchkey.Session{Hash: sha256.Sum256([]byte("plain")), UserID: owner.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
		wantCode(t, "CreateSession", f.s.CreateSession(f.ctx, plain), "")
		_, in, err = f.s.SignInSession(f.ctx, plain.Hash, now)
		wantCode(t, "SignInSession(plain)", err, "")
		wantSame(t, "SignIn(plain)", in, &latchkey.SignIn{Method: latchkey.SignInPassword})

		// Two finishes of one pending session at once: one wins.
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i := range errs {
			wg.Add(1)
			go func() {
				defer wg.Done()
				next := &latchkey.Session{Hash: sha256.Sum256([]byte{byte(i)}), UserID: owner.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)}
				errs[i] = f.s.ReplaceSession(f.ctx, old.Hash, next, latchkey.SignIn{Method: latchkey.SignInSSO, SSOWorkspaceID: ws.ID}, ev(latchkey.EventMFAVerified))
			}()
		}
		wg.Wait()
		if (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("ReplaceSession twice at once: got %v and %v, want one success and one ENOTFOUND", errs[0], errs[1])
		}
		_, _, err = f.s.SignInSession(f.ctx, old.Hash, now)
		wantCode(t, "SignInSession(replaced)", err, latchkey.ENOTFOUND)
		_, _, err = f.s.SignInSession(f.ctx, old.Hash, now.Add(2*time.Hour))
		wantCode(t, "SignInSession(expired)", err, latchkey.ENOTFOUND)
	})

	t.Run("totp", func(t *testing.T) {
		_, err := f.s.TOTP(f.ctx, owner.ID)
		wantCode(t, "TOTP(none)", err, latchkey.ENOTFOUND)
		wantCode(t, "UseTOTPStep(none)", f.s.UseTOTPStep(f.ctx, owner.ID, 5), latchkey.ENOTFOUND)
		wantCode(t, "StartTOTP", f.s.StartTOTP(f.ctx, &latchkey.TOTP{UserID: owner.ID, SealedSecret: []byte("one"), CreatedAt: now}), "")
		wantCode(t, "StartTOTP(again, unconfirmed)", f.s.StartTOTP(f.ctx, &latchkey.TOTP{UserID: owner.ID, SealedSecret: []byte("two"), CreatedAt: now}), "")
		wantCode(t, "StartTOTP(unknown user)", f.s.StartTOTP(f.ctx, &latchkey.TOTP{UserID: "usr_nobody", SealedSecret: []byte("x"), CreatedAt: now}), latchkey.ENOTFOUND)
		wantCode(t, "UseTOTPStep(unconfirmed)", f.s.UseTOTPStep(f.ctx, owner.ID, 5), latchkey.ENOTFOUND)
		codes := [][32]byte{sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b"))}
		wantCode(t, "ConfirmTOTP", f.s.ConfirmTOTP(f.ctx, owner.ID, now, 100, codes, ev(latchkey.EventMFAEnrolled)), "")
		wantCode(t, "ConfirmTOTP(again)", f.s.ConfirmTOTP(f.ctx, owner.ID, now, 101, codes, ev(latchkey.EventMFAEnrolled)), latchkey.ECONFLICT)
		got, err := f.s.TOTP(f.ctx, owner.ID)
		wantCode(t, "TOTP", err, "")
		wantSame(t, "TOTP", got, &latchkey.TOTP{UserID: owner.ID, SealedSecret: []byte("two"), CreatedAt: now, ConfirmedAt: &now, LastStep: 100})
		wantCode(t, "StartTOTP(confirmed)", f.s.StartTOTP(f.ctx, &latchkey.TOTP{UserID: owner.ID, SealedSecret: []byte("x"), CreatedAt: now}), latchkey.ECONFLICT)
		wantCode(t, "UseTOTPStep(same)", f.s.UseTOTPStep(f.ctx, owner.ID, 100), latchkey.ECONFLICT)
		wantCode(t, "UseTOTPStep(earlier)", f.s.UseTOTPStep(f.ctx, owner.ID, 99), latchkey.ECONFLICT)
		wantCode(t, "UseTOTPStep(next)", f.s.UseTOTPStep(f.ctx, owner.ID, 101), "")

		rc, err := f.s.RecoveryCodes(f.ctx, owner.ID)
		wantCode(t, "RecoveryCodes", err, "")
		if len(rc) != 2 || rc[0].Hash != codes[0] || rc[1].Hash != codes[1] {
			t.Fatalf("RecoveryCodes: got %v, want the two hashes stored", rc)
		}
		wantCode(t, "UseRecoveryCode", f.s.UseRecoveryCode(f.ctx, owner.ID, rc[0].ID, now, ev(latchkey.EventMFARecoveryUsed)), "")
		wantCode(t, "UseRecoveryCode(twice)", f.s.UseRecoveryCode(f.ctx, owner.ID, rc[0].ID, now, ev(latchkey.EventMFARecoveryUsed)), latchkey.ECONFLICT)
		wantCode(t, "UseRecoveryCode(another user's)", f.s.UseRecoveryCode(f.ctx, "usr_nobody", rc[1].ID, now, ev(latchkey.EventMFARecoveryUsed)), latchkey.ECONFLICT)
		if rc, _ = f.s.RecoveryCodes(f.ctx, owner.ID); len(rc) != 1 {
			t.Fatalf("RecoveryCodes after one use: got %d, want 1", len(rc))
		}
		wantCode(t, "ReplaceRecoveryCodes", f.s.ReplaceRecoveryCodes(f.ctx, owner.ID, codes[:1], now, ev(latchkey.EventMFARecoveryRenewed)), "")
		if rc, _ = f.s.RecoveryCodes(f.ctx, owner.ID); len(rc) != 1 || rc[0].Hash != codes[0] {
			t.Fatalf("RecoveryCodes after replace: got %v, want the new one only", rc)
		}
		wantCode(t, "DeleteTOTP", f.s.DeleteTOTP(f.ctx, owner.ID, ev(latchkey.EventMFARemoved)), "")
		wantCode(t, "DeleteTOTP(again)", f.s.DeleteTOTP(f.ctx, owner.ID, ev(latchkey.EventMFARemoved)), latchkey.ENOTFOUND)
		if rc, _ = f.s.RecoveryCodes(f.ctx, owner.ID); len(rc) != 0 {
			t.Fatalf("RecoveryCodes after DeleteTOTP: got %d, want 0", len(rc))
		}
		acts := f.eventsFor(ws.ID, owner.ID)
		for _, want := range []string{latchkey.EventMFAEnrolled, latchkey.EventMFARecoveryUsed, latchkey.EventMFARemoved} {
			found := false
			for _, a := range acts {
				found = found || a == want
			}
			if !found {
				t.Errorf("events: got %v, want %s among them", acts, want)
			}
		}
	})

	t.Run("sso", func(t *testing.T) {
		other, _ := f.workspace("Evil", "owner@evil.test")
		_, err := f.s.SSOConfig(f.ctx, ws.ID)
		wantCode(t, "SSOConfig(none)", err, latchkey.ENOTFOUND)
		cfg, err := f.s.UpdateSSOConfig(f.ctx, ws.ID, func(c *latchkey.SSOConfig) (*latchkey.Event, error) {
			c.Issuer, c.ClientID, c.SealedSecret, c.RequireSSO, c.UpdatedAt = "https://idp.test", "client", []byte("sealed"), true, now
			e := f.event(ws.ID, latchkey.EventSSOConfigured, ws.ID)
			return &e, nil
		})
		wantCode(t, "UpdateSSOConfig", err, "")
		if !cfg.Enabled() || !cfg.RequireSSO {
			t.Fatalf("UpdateSSOConfig: got %+v, want enabled with Require SSO", cfg)
		}
		_, err = f.s.UpdateSSOConfig(f.ctx, "ws_nowhere", func(c *latchkey.SSOConfig) (*latchkey.Event, error) { return nil, nil })
		wantCode(t, "UpdateSSOConfig(unknown workspace)", err, latchkey.ENOTFOUND)

		d := latchkey.SSODomain{Domain: "acme.test", Token: "tok-a", CreatedAt: now}
		wantCode(t, "AddSSODomain", f.s.AddSSODomain(f.ctx, ws.ID, d, f.event(ws.ID, latchkey.EventSSODomainAdded, "acme.test")), "")
		wantCode(t, "AddSSODomain(twice)", f.s.AddSSODomain(f.ctx, ws.ID, d, f.event(ws.ID, latchkey.EventSSODomainAdded, "acme.test")), latchkey.ECONFLICT)
		// Another workspace may claim the same domain; only one verifies it.
		wantCode(t, "AddSSODomain(other workspace)", f.s.AddSSODomain(f.ctx, other.ID, latchkey.SSODomain{Domain: "acme.test", Token: "tok-e", CreatedAt: now}, f.event(other.ID, latchkey.EventSSODomainAdded, "acme.test")), "")
		_, err = f.s.SSOByDomain(f.ctx, "acme.test")
		wantCode(t, "SSOByDomain(unverified)", err, latchkey.ENOTFOUND)
		wantCode(t, "VerifySSODomain", f.s.VerifySSODomain(f.ctx, ws.ID, "acme.test", now, f.event(ws.ID, latchkey.EventSSODomainVerified, "acme.test")), "")
		wantCode(t, "VerifySSODomain(other workspace)", f.s.VerifySSODomain(f.ctx, other.ID, "acme.test", now, f.event(other.ID, latchkey.EventSSODomainVerified, "acme.test")), latchkey.ECONFLICT)
		wantCode(t, "VerifySSODomain(unclaimed)", f.s.VerifySSODomain(f.ctx, ws.ID, "nope.test", now, f.event(ws.ID, latchkey.EventSSODomainVerified, "nope.test")), latchkey.ENOTFOUND)
		got, err := f.s.SSOByDomain(f.ctx, "acme.test")
		wantCode(t, "SSOByDomain", err, "")
		if got.WorkspaceID != ws.ID || len(got.Domains) != 1 || got.Domains[0].VerifiedAt == nil {
			t.Fatalf("SSOByDomain: got %+v, want Acme's with its verified domain", got)
		}
		wantCode(t, "RemoveSSODomain", f.s.RemoveSSODomain(f.ctx, ws.ID, "acme.test", f.event(ws.ID, latchkey.EventSSODomainRemoved, "acme.test")), "")
		wantCode(t, "RemoveSSODomain(again)", f.s.RemoveSSODomain(f.ctx, ws.ID, "acme.test", f.event(ws.ID, latchkey.EventSSODomainRemoved, "acme.test")), latchkey.ENOTFOUND)
		wantCode(t, "VerifySSODomain(other workspace, freed)", f.s.VerifySSODomain(f.ctx, other.ID, "acme.test", now, f.event(other.ID, latchkey.EventSSODomainVerified, "acme.test")), "")
	})

	t.Run("states", func(t *testing.T) {
		st := &latchkey.SSOState{Hash: sha256.Sum256([]byte("state")), WorkspaceID: ws.ID, Email: "a@acme.test", Nonce: "n", Verifier: "v", Next: "/", ExpiresAt: now.Add(10 * time.Minute)}
		wantCode(t, "CreateSSOState", f.s.CreateSSOState(f.ctx, st), "")
		got, err := f.s.TakeSSOState(f.ctx, st.Hash, now)
		wantCode(t, "TakeSSOState", err, "")
		wantSame(t, "TakeSSOState", got, st)
		_, err = f.s.TakeSSOState(f.ctx, st.Hash, now)
		wantCode(t, "TakeSSOState(replayed)", err, latchkey.ENOTFOUND)
		wantCode(t, "CreateSSOState(again)", f.s.CreateSSOState(f.ctx, st), "")
		_, err = f.s.TakeSSOState(f.ctx, st.Hash, st.ExpiresAt)
		wantCode(t, "TakeSSOState(expired)", err, latchkey.ENOTFOUND)
	})

	t.Run("passkeys", func(t *testing.T) { testPasskeys(t, f, ws, owner) })
}
