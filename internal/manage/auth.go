package manage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/password"
)

// errBadLogin is the one answer to every failed login, so that it does not
// reveal whether the email exists.
var errBadLogin = latchkey.Errorf(latchkey.EUNAUTHORIZED, "wrong email or password")

// Login checks an email and password and opens a session. It returns the
// session token to set as a cookie; only its SHA-256 is stored.
//
// The attempt is reserved with the throttle before anything is looked up
// or hashed, so guesses in flight count like failed ones; the password
// check itself is bounded by the process-wide hash limit of
// internal/password. Either refusal is ERATELIMITED with
// retry_after_seconds, and both answer the same for every email.
//
// The session may still wait for a second factor or an enrolment
// (PendingSignIn says which); a workspace that requires single sign-on is
// not reached by it (see passwordSignIn).
func (s *Service) Login(ctx context.Context, email, pw, ip string) (*latchkey.User, string, error) {
	return s.login(ctx, email, pw, ip, false)
}

// BreakGlassLogin is Login for an owner of a workspace that requires
// single sign-on, when the identity provider is unreachable: the session
// reaches the workspaces they own, and each records the sign-in.
func (s *Service) BreakGlassLogin(ctx context.Context, email, pw, ip string) (*latchkey.User, string, error) {
	return s.login(ctx, email, pw, ip, true)
}

func (s *Service) login(ctx context.Context, email, pw, ip string, breakGlass bool) (*latchkey.User, string, error) {
	res, err := s.throttle.reserve("too many failed logins", loginKeys(email, ip)...)
	if err != nil {
		return nil, "", err
	}
	if res.delay > 0 {
		t := time.NewTimer(res.delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			res.release()
			return nil, "", ctx.Err()
		}
	}
	u, err := s.checkPassword(ctx, email, pw, ip)
	switch {
	case latchkey.ErrorCode(err) == latchkey.EUNAUTHORIZED:
		res.fail()
		return nil, "", err
	case err != nil && u != nil:
		// The right password for an account that may not log in.
		res.succeed()
		return nil, "", err
	case err != nil:
		res.release()
		return nil, "", err
	}
	res.succeed()
	in, err := s.passwordSignIn(ctx, u, ip, breakGlass)
	if err != nil {
		return nil, "", err
	}
	tok, err := s.openSession(ctx, u, in)
	if err != nil {
		return nil, "", err
	}
	s.auditUser(ctx, u, latchkey.EventLogin, ip)
	return u, tok, nil
}

// checkPassword finds the user and checks the password, doing the same
// work whether the email is unknown, belongs to an account without a
// password (invited, provisioned, not yet claimed) or to one with a
// password: one lookup and one argon2id verification. A user whose every
// membership has been deprovisioned cannot log in: then it returns the
// user with an EFORBIDDEN error, since the password was right.
func (s *Service) checkPassword(ctx context.Context, email, pw, ip string) (*latchkey.User, error) {
	norm, err := latchkey.NormalizeEmail(email)
	var u *latchkey.User
	if err == nil {
		u, err = s.store.UserByEmail(ctx, norm)
	}
	switch {
	case err == nil && u.PasswordHash != "":
	case err == nil || latchkey.IsNotFound(err) || latchkey.ErrorCode(err) == latchkey.EINVALID:
		// Unknown, malformed or without a password: exactly like a wrong
		// password for an unknown address, and not recorded anywhere, so
		// neither the answer nor its timing tells these apart.
		if err := password.VerifyNobody(ctx, pw); err != nil {
			return nil, err
		}
		return nil, errBadLogin
	default:
		return nil, err
	}
	ok, err := password.Verify(ctx, pw, u.PasswordHash)
	if err != nil {
		return nil, err
	}
	if !ok {
		s.auditUser(ctx, u, latchkey.EventLoginFailed, ip)
		return nil, errBadLogin
	}
	if u.Operator {
		return u, nil
	}
	ms, err := s.store.Memberships(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Active {
			return u, nil
		}
	}
	return u, latchkey.Errorf(latchkey.EFORBIDDEN, "this account has no active workspace: it was removed or deprovisioned")
}

// auditUser records a login event in each workspace the user belongs to,
// so every workspace's log shows who entered it. Failures to record are
// not fatal to the login: the event is best effort, the session is not.
func (s *Service) auditUser(ctx context.Context, u *latchkey.User, action, ip string) {
	ms, err := s.store.Memberships(ctx, u.ID)
	if err != nil {
		return
	}
	p := latchkey.Principal{Kind: latchkey.PrincipalUser, UserID: u.ID, Email: u.Email, IP: ip}
	for _, m := range ms {
		_ = s.store.AppendEvent(ctx, s.event(p, m.WorkspaceID, action, u.ID, nil))
	}
}

// SessionUser returns the user of a live, complete session token (see
// SessionCaller, which also says which workspaces it reaches).
func (s *Service) SessionUser(ctx context.Context, tok string) (*latchkey.User, error) {
	c, err := s.SessionCaller(ctx, tok, "")
	return c.User, err
}

// Logout ends a session.
func (s *Service) Logout(ctx context.Context, u *latchkey.User, tok, ip string) error {
	if err := s.store.DeleteSession(ctx, sha256.Sum256([]byte(tok))); err != nil {
		return err
	}
	s.auditUser(ctx, u, latchkey.EventLogout, ip)
	return nil
}

// Me describes a user and the workspaces they belong to.
type Me struct {
	User       *latchkey.User    `json:"user"`
	Workspaces []MemberWorkspace `json:"workspaces"`
}

// MemberWorkspace is one of a user's workspaces with their role in it.
type MemberWorkspace struct {
	ID     string        `json:"id"`
	Name   string        `json:"name"`
	Role   latchkey.Role `json:"role"`
	Active bool          `json:"active"`
}

// Me returns the caller and their workspaces. For a management key it is
// the key's creator in the key's workspace only; for a session, the
// workspaces it reaches (see reaches).
func (s *Service) Me(ctx context.Context, c Caller) (*Me, error) {
	uid := ""
	switch {
	case c.User != nil:
		uid = c.User.ID
	case c.Key != nil:
		uid = c.Key.CreatedBy
	default:
		return nil, latchkey.Errorf(latchkey.EUNAUTHORIZED, "authentication required")
	}
	u, err := s.store.User(ctx, uid)
	if err != nil {
		return nil, err
	}
	ms, err := s.store.Memberships(ctx, uid)
	if err != nil {
		return nil, err
	}
	out := &Me{User: u, Workspaces: []MemberWorkspace{}}
	for _, m := range ms {
		if c.Key != nil && m.WorkspaceID != c.Key.WorkspaceID {
			continue
		}
		// A session lists only the workspaces it reaches: one opened by a
		// workspace's single sign-on names no other workspace of the account.
		if c.Key == nil {
			if ok, err := s.reaches(ctx, c, m); err != nil {
				return nil, err
			} else if !ok {
				continue
			}
		}
		w, err := s.store.Workspace(ctx, m.WorkspaceID)
		if err != nil {
			return nil, err
		}
		out.Workspaces = append(out.Workspaces, MemberWorkspace{ID: w.ID, Name: w.Name, Role: m.Role, Active: m.Active})
	}
	return out, nil
}

// randomPassword makes a one-time password for a bootstrap owner: 20
// characters from crypto/rand, far above the password policy.
func randomPassword() string { return rand.Text() }

// ChangePassword replaces the caller's password after checking the current
// one. Every other session of the user ends: whoever knew the old password
// is logged out; the session making the change stays.
func (s *Service) ChangePassword(ctx context.Context, c Caller, session, current, next string) error {
	if c.User == nil {
		return latchkey.Errorf(latchkey.EFORBIDDEN, "only a logged-in person can change their password")
	}
	u, err := s.store.User(ctx, c.User.ID)
	if err != nil {
		return err
	}
	// Guesses at the current password are throttled per user, in flight
	// included, so a stolen session cannot brute-force it; this never
	// touches the user's logins.
	res, err := s.throttle.reserve("too many wrong passwords", counted{"own-password:" + u.ID, ruleOwnPassword})
	if err != nil {
		return err
	}
	if err := password.Check(next); err != nil {
		res.release()
		return err.(*latchkey.Error).WithDetail("field", "new_password")
	}
	ok := false
	if u.PasswordHash == "" {
		err = password.VerifyNobody(ctx, current)
	} else {
		ok, err = password.Verify(ctx, current, u.PasswordHash)
	}
	if err != nil {
		res.release()
		return err
	}
	if !ok {
		res.fail()
		return latchkey.Errorf(latchkey.EINVALID, "the current password is wrong").WithDetail("field", "current_password")
	}
	res.succeed()
	hash, err := password.HashContext(ctx, next)
	if err != nil {
		return err
	}
	if _, err := s.store.UpdateUser(ctx, u.ID, func(u *latchkey.User) error { u.PasswordHash = hash; return nil }); err != nil {
		return err
	}
	if err := s.store.DeleteUserSessions(ctx, u.ID); err != nil {
		return err
	}
	s.auditUser(ctx, u, "auth.password_changed", c.IP)
	if session == "" {
		return nil
	}
	// Keep the caller's own session: recreate it under the same token.
	now := s.Now()
	return s.store.CreateSession(ctx, &latchkey.Session{Hash: sha256.Sum256([]byte(session)), UserID: u.ID, CreatedAt: now, ExpiresAt: now.Add(s.ttl)})
}
