package manage

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base32"
	"io"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey"
)

// totpOpts are the parameters every authenticator app supports: 6 digits,
// 30-second steps, SHA-1; one step of drift either way is accepted.
var totpOpts = totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}

const (
	totpPeriod        = 30
	recoveryCodeCount = 10
)

// MFAStatus is what a user has set up as a second factor.
type MFAStatus struct {
	TOTP              bool `json:"totp"`
	Passkeys          int  `json:"passkeys"`
	RecoveryCodesLeft int  `json:"recovery_codes_left"`
	// Required is true for operators and members of a workspace that
	// requires a second factor: they cannot remove their last one.
	Required bool `json:"required"`
}

// TOTPSetup is a new authenticator secret to enter into an app: shown
// once, to its user only.
type TOTPSetup struct {
	Secret string `json:"secret"`
	URL    string `json:"otpauth_url"`
}

// hasSecondFactor: a confirmed authenticator app or a passkey.
func (s *Service) hasSecondFactor(ctx context.Context, userID string) (bool, error) {
	has, err := s.hasTOTP(ctx, userID)
	if err != nil || has {
		return has, err
	}
	keys, err := s.store.Passkeys(ctx, userID)
	return len(keys) > 0, err
}

func (s *Service) hasTOTP(ctx context.Context, userID string) (bool, error) {
	t, err := s.store.TOTP(ctx, userID)
	if latchkey.IsNotFound(err) {
		return false, nil
	}
	return err == nil && t.ConfirmedAt != nil, err
}

func requireUser(c Caller) (*latchkey.User, error) {
	if c.User == nil {
		return nil, latchkey.Errorf(latchkey.EFORBIDDEN, "only a signed-in person has second factors")
	}
	return c.User, nil
}

// MFA describes the caller's second factors.
func (s *Service) MFA(ctx context.Context, c Caller) (*MFAStatus, error) {
	u, err := requireUser(c)
	if err != nil {
		return nil, err
	}
	st := &MFAStatus{}
	if st.TOTP, err = s.hasTOTP(ctx, u.ID); err != nil {
		return nil, err
	}
	keys, err := s.store.Passkeys(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	st.Passkeys = len(keys)
	codes, err := s.store.RecoveryCodes(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	st.RecoveryCodesLeft = len(codes)
	if st.Required, err = s.secondFactorRequired(ctx, u); err != nil {
		return nil, err
	}
	return st, nil
}

// StartTOTP makes a new authenticator secret for the caller, replacing one
// not confirmed yet; ECONFLICT when one is set up.
func (s *Service) StartTOTP(ctx context.Context, c Caller) (*TOTPSetup, error) {
	u, err := requireUser(c)
	if err != nil {
		return nil, err
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "latchkey", AccountName: u.Email, Rand: s.rand})
	if err != nil {
		return nil, err
	}
	t := &latchkey.TOTP{UserID: u.ID, SealedSecret: s.signin.box.Seal([]byte(key.Secret()), "totp:"+u.ID), CreatedAt: s.Now()}
	if err := s.store.StartTOTP(ctx, t); err != nil {
		return nil, err
	}
	return &TOTPSetup{Secret: key.Secret(), URL: key.URL()}, nil
}

// ConfirmTOTP checks a first code from the app, turns the secret on and
// returns new recovery codes, shown this once. A session that had to enrol
// is complete afterwards: its new token is returned ("" when the session
// was complete already).
func (s *Service) ConfirmTOTP(ctx context.Context, c Caller, session, code string) ([]string, string, error) {
	u, err := requireUser(c)
	if err != nil {
		return nil, "", err
	}
	res, err := s.throttle.reserve("too many wrong codes", s.secondFactorKeys(u, c.IP)...)
	if err != nil {
		return nil, "", err
	}
	t, err := s.store.TOTP(ctx, u.ID)
	if latchkey.IsNotFound(err) || err == nil && t.ConfirmedAt != nil {
		res.release()
		return nil, "", latchkey.Errorf(latchkey.ECONFLICT, "start setting up an authenticator app first")
	}
	if err != nil {
		res.release()
		return nil, "", err
	}
	step, ok, err := s.matchTOTP(u, t, code)
	if err != nil {
		res.release()
		return nil, "", err
	}
	if !ok {
		res.fail()
		return nil, "", latchkey.Errorf(latchkey.EINVALID, "that code is not right: enter the 6 digits your app shows now").WithDetail("field", "code")
	}
	res.succeed()
	codes, hashes, err := s.newRecoveryCodes()
	if err != nil {
		return nil, "", err
	}
	evs, err := s.userEvents(ctx, u, latchkey.EventMFAEnrolled, c.IP, map[string]any{"factor": "totp"})
	if err != nil {
		return nil, "", err
	}
	if err := s.store.ConfirmTOTP(ctx, u.ID, s.Now(), step, hashes, evs); err != nil {
		return nil, "", err
	}
	tok := ""
	if c.SignIn != nil && c.SignIn.Pending == latchkey.PendingEnrolment && session != "" {
		if tok, err = s.finishSignIn(ctx, session, u, c.SignIn, nil); err != nil {
			return nil, "", err
		}
	}
	return codes, tok, nil
}

// RemoveTOTP turns the authenticator off after checking a current code;
// EFORBIDDEN when the caller must keep a second factor and has no passkey.
func (s *Service) RemoveTOTP(ctx context.Context, c Caller, code string) error {
	u, err := requireUser(c)
	if err != nil {
		return err
	}
	keys, err := s.store.Passkeys(ctx, u.ID)
	if err != nil {
		return err
	}
	if err := s.keepsSecondFactor(ctx, u, len(keys), "totp"); err != nil {
		return err
	}
	if err := s.checkSecondFactor(ctx, u, code, c.IP); err != nil {
		return err
	}
	evs, err := s.userEvents(ctx, u, latchkey.EventMFARemoved, c.IP, map[string]any{"factor": "totp"})
	if err != nil {
		return err
	}
	return s.store.DeleteTOTP(ctx, u.ID, evs)
}

// RenewRecoveryCodes replaces the caller's recovery codes after checking a
// current code, and returns the new ones, shown this once.
func (s *Service) RenewRecoveryCodes(ctx context.Context, c Caller, code string) ([]string, error) {
	u, err := requireUser(c)
	if err != nil {
		return nil, err
	}
	if has, err := s.hasTOTP(ctx, u.ID); err != nil {
		return nil, err
	} else if !has {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "set up an authenticator app first")
	}
	if err := s.checkSecondFactor(ctx, u, code, c.IP); err != nil {
		return nil, err
	}
	codes, hashes, err := s.newRecoveryCodes()
	if err != nil {
		return nil, err
	}
	evs, err := s.userEvents(ctx, u, latchkey.EventMFARecoveryRenewed, c.IP, nil)
	if err != nil {
		return nil, err
	}
	return codes, s.store.ReplaceRecoveryCodes(ctx, u.ID, hashes, s.Now(), evs)
}

// SecondFactor finishes a sign-in that waits for its second factor with a
// code from the authenticator app or a recovery code, and returns the
// complete session's token (the pending one ends). Guesses are throttled
// per user and per source like passwords; a wrong code is recorded.
func (s *Service) SecondFactor(ctx context.Context, session, code, ip string) (*latchkey.User, string, error) {
	u, in, err := s.signInSession(ctx, session)
	if err != nil {
		return nil, "", err
	}
	if in.Pending != latchkey.PendingSecondFactor {
		return nil, "", latchkey.Errorf(latchkey.ECONFLICT, "this sign-in does not wait for a second factor")
	}
	if err := s.checkSecondFactor(ctx, u, code, ip); err != nil {
		return nil, "", err
	}
	evs, err := s.userEvents(ctx, u, latchkey.EventMFAVerified, ip, map[string]any{"method": in.Method})
	if err != nil {
		return nil, "", err
	}
	tok, err := s.finishSignIn(ctx, session, u, in, evs)
	return u, tok, err
}

func (s *Service) secondFactorKeys(u *latchkey.User, ip string) []counted {
	return []counted{{"second-factor:" + u.ID, ruleSecondFactor}, {"source:" + source(ip), ruleSource}}
}

// checkSecondFactor checks a TOTP code (used once) or a recovery code
// (used once), throttled; a wrong one is recorded in the user's
// workspaces.
func (s *Service) checkSecondFactor(ctx context.Context, u *latchkey.User, code, ip string) error {
	res, err := s.throttle.reserve("too many wrong codes", s.secondFactorKeys(u, ip)...)
	if err != nil {
		return err
	}
	how, err := s.useSecondFactor(ctx, u, code, ip)
	switch {
	case err == nil:
		res.succeed()
		return nil
	case latchkey.ErrorCode(err) == latchkey.EUNAUTHORIZED:
		res.fail()
		if evs, eerr := s.userEvents(ctx, u, latchkey.EventMFAFailed, ip, map[string]any{"factor": how}); eerr == nil {
			for _, ev := range evs {
				_ = s.store.AppendEvent(ctx, ev)
			}
		}
		return err
	default:
		res.release()
		return err
	}
}

var errWrongCode = latchkey.Errorf(latchkey.EUNAUTHORIZED, "wrong code").WithDetail("field", "code")

// useSecondFactor consumes code and says which factor it was.
func (s *Service) useSecondFactor(ctx context.Context, u *latchkey.User, code, ip string) (string, error) {
	code = strings.TrimSpace(code)
	if len(code) == 6 {
		t, err := s.store.TOTP(ctx, u.ID)
		if latchkey.IsNotFound(err) || err == nil && t.ConfirmedAt == nil {
			return "totp", errWrongCode
		}
		if err != nil {
			return "totp", err
		}
		step, ok, err := s.matchTOTP(u, t, code)
		if err != nil {
			return "totp", err
		}
		if !ok || step <= t.LastStep {
			return "totp", errWrongCode
		}
		if err := s.store.UseTOTPStep(ctx, u.ID, step); latchkey.ErrorCode(err) == latchkey.ECONFLICT {
			return "totp", errWrongCode
		} else if err != nil {
			return "totp", err
		}
		return "totp", nil
	}
	h := recoveryHash(code)
	codes, err := s.store.RecoveryCodes(ctx, u.ID)
	if err != nil {
		return "recovery_code", err
	}
	var match *latchkey.RecoveryCode
	for i := range codes { // every code compared, in constant time
		if subtle.ConstantTimeCompare(codes[i].Hash[:], h[:]) == 1 {
			match = &codes[i]
		}
	}
	if match == nil {
		return "recovery_code", errWrongCode
	}
	evs, err := s.userEvents(ctx, u, latchkey.EventMFARecoveryUsed, ip, map[string]any{"left": len(codes) - 1})
	if err != nil {
		return "recovery_code", err
	}
	if err := s.store.UseRecoveryCode(ctx, u.ID, match.ID, s.Now(), evs); latchkey.ErrorCode(err) == latchkey.ECONFLICT {
		return "recovery_code", errWrongCode
	} else if err != nil {
		return "recovery_code", err
	}
	return "recovery_code", nil
}

// matchTOTP finds the time step, within one of now, whose code is code.
func (s *Service) matchTOTP(u *latchkey.User, t *latchkey.TOTP, code string) (int64, bool, error) {
	secret, err := s.signin.box.Open(t.SealedSecret, "totp:"+u.ID)
	if err != nil {
		return 0, false, latchkey.Errorf(latchkey.EINTERNAL, "the authenticator secret cannot be opened: is this server's master key the one it was sealed with?")
	}
	now := s.now().Unix() / totpPeriod
	var found int64
	ok := false
	for step := now - 1; step <= now+1; step++ {
		want, err := totp.GenerateCodeCustom(string(secret), time.Unix(step*totpPeriod, 0), totpOpts)
		if err != nil {
			return 0, false, err
		}
		if subtle.ConstantTimeCompare([]byte(want), []byte(code)) == 1 && step > t.LastStep {
			found, ok = step, true
		}
	}
	return found, ok, nil
}

// newRecoveryCodes makes one-time codes of 10 base32 characters (50 bits)
// written xxxxx-xxxxx; only their SHA-256 is stored.
func (s *Service) newRecoveryCodes() ([]string, [][32]byte, error) {
	enc := base32.StdEncoding.WithPadding(base32.NoPadding)
	codes := make([]string, recoveryCodeCount)
	hashes := make([][32]byte, recoveryCodeCount)
	for i := range codes {
		b := make([]byte, 7)
		if _, err := io.ReadFull(s.rand, b); err != nil {
			return nil, nil, err
		}
		c := strings.ToLower(enc.EncodeToString(b))[:10]
		codes[i] = c[:5] + "-" + c[5:]
		hashes[i] = recoveryHash(codes[i])
	}
	return codes, hashes, nil
}

// recoveryHash hashes a recovery code as typed: case, spaces and dashes
// do not matter.
func recoveryHash(code string) [32]byte {
	c := strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToLower(strings.TrimSpace(code)))
	return sha256.Sum256([]byte("latchkey-recovery:" + c))
}
