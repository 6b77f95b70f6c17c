package manage

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"io"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/password"
)

var errPasskeyRefused = latchkey.Errorf(latchkey.EUNAUTHORIZED, "the passkey was not accepted").WithDetail("field", "credential")

// BeginPasskeyLogin starts a passwordless sign-in with a discoverable
// passkey. It returns the options and the attempt's token, which binds the
// challenge to this attempt (the caller keeps it in a cookie): the answer
// is accepted only with it. A source locked out by failed sign-ins cannot
// begin either.
func (s *Service) BeginPasskeyLogin(ctx context.Context, ip string) (*PasskeyOptions, string, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, "", err
	}
	res, err := s.throttle.reserve("too many failed sign-ins", counted{"source:" + source(ip), ruleSource})
	if err != nil {
		return nil, "", err
	}
	res.release()
	opts, sd, err := rp.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", err
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(rand.Reader, b); err != nil {
		return nil, "", err
	}
	attempt := base64.RawURLEncoding.EncodeToString(b)
	o, err := s.beginCeremony(ctx, latchkey.CeremonyLogin, attempt, "", opts, sd)
	return o, attempt, err
}

// FinishPasskeyLogin checks the answer to a passwordless sign-in begun
// with attempt and opens a complete session: the passkey verified its
// user (PIN or biometrics), so it stands for both factors. Attempts are
// throttled per source, and per account and source once the passkey names
// an account; a refused passkey of a known account is recorded in its
// workspaces.
func (s *Service) FinishPasskeyLogin(ctx context.Context, attempt string, response []byte, ip string) (*latchkey.User, string, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, "", err
	}
	res, err := s.throttle.reserve("too many failed sign-ins", counted{"source:" + source(ip), ruleSource})
	if err != nil {
		return nil, "", err
	}
	sd, err := s.takeCeremony(ctx, latchkey.CeremonyLogin, attempt, "")
	if err != nil {
		res.fail()
		return nil, "", err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		res.fail()
		return nil, "", errPasskeyAnswer("credential")
	}
	// The passkey names its account by its credential id; the user
	// handle the authenticator returns must name the same one.
	pk, err := s.store.PasskeyByCredential(ctx, parsed.RawID)
	if latchkey.IsNotFound(err) {
		res.fail()
		return nil, "", errPasskeyRefused
	}
	if err != nil {
		res.release()
		return nil, "", err
	}
	u, err := s.store.User(ctx, pk.UserID)
	if err != nil {
		res.release()
		return nil, "", err
	}
	// Per account only from this source, as for passwords: a stranger
	// replaying a known credential id must not lock its owner out.
	userRes, err := s.throttle.reserve("too many failed sign-ins", counted{"passkey-pair:" + u.ID + "|" + source(ip), rulePair})
	if err != nil {
		res.release()
		return nil, "", err
	}
	pu, err := s.passkeyUser(ctx, u)
	if err != nil {
		res.release()
		userRes.release()
		return nil, "", err
	}
	handler := func(rawID, userHandle []byte) (webauthn.User, error) {
		if !bytes.Equal(userHandle, pu.WebAuthnID()) {
			return nil, errPasskeyRefused
		}
		return pu, nil
	}
	_, cred, err := rp.ValidatePasskeyLogin(handler, *sd, parsed)
	if err == nil {
		err = s.usePasskey(ctx, u, pk, cred, ip)
	}
	if err != nil {
		res.fail()
		userRes.fail()
		s.passkeyFailed(ctx, u, pk, ip, "assertion")
		return nil, "", errPasskeyRefused
	}
	res.succeed()
	userRes.succeed()
	if err := s.activeAccount(ctx, u); err != nil {
		return nil, "", err
	}
	in, err := s.passwordSignIn(ctx, u, ip, false)
	if err != nil {
		return nil, "", err
	}
	in.Method, in.Pending = latchkey.SignInPasskey, ""
	tok, sess, err := s.newSessionRecord(u.ID)
	if err != nil {
		return nil, "", err
	}
	if err := s.store.CreateSignInSession(ctx, sess, in); err != nil {
		return nil, "", err
	}
	s.auditUser(ctx, u, latchkey.EventLogin, ip)
	return u, tok, nil
}

// BeginPasskeySecondFactor starts the passkey check of a sign-in that
// waits for its second factor; the challenge is bound to that session.
func (s *Service) BeginPasskeySecondFactor(ctx context.Context, session string) (*PasskeyOptions, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, err
	}
	u, in, err := s.signInSession(ctx, session)
	if err != nil {
		return nil, err
	}
	if in.Pending != latchkey.PendingSecondFactor {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "this sign-in does not wait for a second factor")
	}
	pu, err := s.passkeyUser(ctx, u)
	if err != nil {
		return nil, err
	}
	if len(pu.creds) == 0 {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "you have no passkey: enter a code instead")
	}
	opts, sd, err := rp.BeginLogin(pu, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, err
	}
	return s.beginCeremony(ctx, latchkey.CeremonySecondFactor, session, u.ID, opts, sd)
}

// PasskeySecondFactor finishes a sign-in that waits for its second factor
// with a passkey, and returns the complete session's token; throttled and
// recorded like a code.
func (s *Service) PasskeySecondFactor(ctx context.Context, session string, response []byte, ip string) (*latchkey.User, string, error) {
	rp, err := s.relyingParty()
	if err != nil {
		return nil, "", err
	}
	u, in, err := s.signInSession(ctx, session)
	if err != nil {
		return nil, "", err
	}
	if in.Pending != latchkey.PendingSecondFactor {
		return nil, "", latchkey.Errorf(latchkey.ECONFLICT, "this sign-in does not wait for a second factor")
	}
	res, err := s.throttle.reserve("too many wrong second factors", s.secondFactorKeys(u, ip)...)
	if err != nil {
		return nil, "", err
	}
	sd, err := s.takeCeremony(ctx, latchkey.CeremonySecondFactor, session, u.ID)
	if err != nil {
		res.fail()
		return nil, "", err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(response)
	if err != nil {
		res.fail()
		return nil, "", errPasskeyAnswer("credential")
	}
	pu, err := s.passkeyUser(ctx, u)
	if err != nil {
		res.release()
		return nil, "", err
	}
	var pk *latchkey.Passkey
	for i := range pu.keys {
		if bytes.Equal(pu.keys[i].CredentialID, parsed.RawID) {
			pk = &pu.keys[i]
		}
	}
	cred, err := rp.ValidateLogin(pu, *sd, parsed)
	if err == nil && pk == nil {
		err = errPasskeyRefused
	}
	if err == nil {
		err = s.usePasskey(ctx, u, pk, cred, ip)
	}
	if err != nil {
		res.fail()
		s.passkeyFailed(ctx, u, pk, ip, "assertion")
		return nil, "", errPasskeyRefused
	}
	res.succeed()
	evs, err := s.userEvents(ctx, u, latchkey.EventMFAVerified, ip, map[string]any{"method": in.Method, "factor": "passkey"})
	if err != nil {
		return nil, "", err
	}
	tok, err := s.finishSignIn(ctx, session, u, in, evs)
	return u, tok, err
}

// usePasskey records a verified assertion: its signature counter must move
// past the stored one, or a copy of the authenticator may be in use; that
// is refused and recorded apart.
func (s *Service) usePasskey(ctx context.Context, u *latchkey.User, pk *latchkey.Passkey, cred *webauthn.Credential, ip string) error {
	if !cred.Authenticator.CloneWarning {
		err := s.store.UsePasskey(ctx, pk.ID, cred.Authenticator.SignCount, s.Now())
		if latchkey.ErrorCode(err) != latchkey.ECONFLICT {
			return err
		}
	}
	if evs, err := s.userEvents(ctx, u, latchkey.EventPasskeyCloned, ip, map[string]any{"passkey": pk.ID, "stored_count": pk.SignCount, "count": cred.Authenticator.SignCount}); err == nil {
		for _, ev := range evs {
			_ = s.store.AppendEvent(ctx, ev)
		}
	}
	return errPasskeyRefused
}

// passkeyFailed records a refused passkey in the user's workspaces.
func (s *Service) passkeyFailed(ctx context.Context, u *latchkey.User, pk *latchkey.Passkey, ip, reason string) {
	data := map[string]any{"factor": "passkey", "reason": reason}
	if pk != nil {
		data["passkey"] = pk.ID
	}
	if evs, err := s.userEvents(ctx, u, latchkey.EventMFAFailed, ip, data); err == nil {
		for _, ev := range evs {
			_ = s.store.AppendEvent(ctx, ev)
		}
	}
}

// activeAccount refuses a user none of whose memberships is active, as a
// password login does.
func (s *Service) activeAccount(ctx context.Context, u *latchkey.User) error {
	if u.Operator {
		return nil
	}
	ms, err := s.store.Memberships(ctx, u.ID)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if m.Active {
			return nil
		}
	}
	return latchkey.Errorf(latchkey.EFORBIDDEN, "this account has no active workspace: it was removed or deprovisioned")
}

// checkOwnPassword checks the caller's password before a sensitive change,
// throttled per user like a password change.
func (s *Service) checkOwnPassword(ctx context.Context, caller *latchkey.User, pw string) error {
	u, err := s.store.User(ctx, caller.ID)
	if err != nil {
		return err
	}
	res, err := s.throttle.reserve("too many wrong passwords", counted{"own-password:" + u.ID, ruleOwnPassword})
	if err != nil {
		return err
	}
	ok := false
	if u.PasswordHash == "" {
		err = password.VerifyNobody(ctx, pw)
	} else {
		ok, err = password.Verify(ctx, pw, u.PasswordHash)
	}
	if err != nil {
		res.release()
		return err
	}
	if !ok {
		res.fail()
		return latchkey.Errorf(latchkey.EINVALID, "the password is wrong").WithDetail("field", "password")
	}
	res.succeed()
	return nil
}

// keepsSecondFactor refuses removing a factor that leaves an account that
// must keep a second factor without any: passkeysLeft passkeys remain, and
// the authenticator app unless removing is "totp".
func (s *Service) keepsSecondFactor(ctx context.Context, u *latchkey.User, passkeysLeft int, removing string) error {
	req, err := s.secondFactorRequired(ctx, u)
	if err != nil || !req || passkeysLeft > 0 {
		return err
	}
	if removing != "totp" {
		t, err := s.store.TOTP(ctx, u.ID)
		if err == nil && t.ConfirmedAt != nil {
			return nil
		}
		if err != nil && !latchkey.IsNotFound(err) {
			return err
		}
	}
	return latchkey.Errorf(latchkey.EFORBIDDEN, "your account must keep a second factor: add another before removing this one")
}
