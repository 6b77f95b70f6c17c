package manage

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sealed"
)

// SignInConfig configures single sign-on and second factors.
type SignInConfig struct {
	// Sealer encrypts SSO client secrets and authenticator seeds at rest.
	// Without one a random key is made for this process only, so what it
	// seals does not survive a restart: servers always pass one.
	Sealer *sealed.Box
	// Resolver looks up the DNS TXT records that verify SSO domains; the
	// system's resolver when nil.
	Resolver TXTResolver
	// HTTPClient calls identity providers; a client with a 10-second
	// timeout when nil.
	HTTPClient *http.Client
	// PublicURL is where people reach the server: its host name is the
	// passkeys' relying party id and its origin the one origin their
	// answers may come from. Passkeys are off without it.
	PublicURL string
	// ProductName is what authenticators show beside a passkey.
	ProductName string
}

// TXTResolver looks up TXT records; *net.Resolver is one.
type TXTResolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
}

// ResolverAt returns a resolver that asks the DNS server at addr
// (host:port) over UDP, or the system's resolver when addr is "".
func ResolverAt(addr string) *net.Resolver {
	if addr == "" {
		return net.DefaultResolver
	}
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}}
}

type signin struct {
	box      *sealed.Box
	resolver TXTResolver
	client   *http.Client

	// rp is the passkeys' relying party; nil when passkeys are off,
	// for the reason rpOff.
	rp    *webauthn.WebAuthn
	rpOff string

	mu        sync.Mutex
	providers map[string]cachedProvider
}

func newSignin(cfg SignInConfig) *signin {
	si := &signin{box: cfg.Sealer, resolver: cfg.Resolver, client: cfg.HTTPClient, providers: map[string]cachedProvider{}}
	// A public URL passkeys cannot use (none, or an IP address: browsers
	// accept only a host name) leaves them off; their endpoints say so.
	var err error
	if si.rp, err = newRelyingParty(cfg.PublicURL, cfg.ProductName); err != nil || si.rp == nil {
		si.rp, si.rpOff = nil, "passkeys are off on this server: they need the host name people reach it at, given with --public-url (an IP address will not do)"
	}
	if si.box == nil {
		key := make([]byte, sealed.KeySize)
		if _, err := io.ReadFull(rand.Reader, key); err != nil {
			panic(err)
		}
		si.box, _ = sealed.New(key)
	}
	if si.resolver == nil {
		si.resolver = net.DefaultResolver
	}
	if si.client == nil {
		si.client = &http.Client{Timeout: 10 * time.Second}
	}
	return si
}

var (
	// ruleSecondFactor: guesses at one user's second factor, from
	// anywhere: a stolen password must not buy a million TOTP guesses.
	ruleSecondFactor = rule{lockAt: 10, forget: true}
)

// errSessionPending answers a session that has a step left; it opens
// nothing but that step.
func errSessionPending(pending string) error {
	if pending == latchkey.PendingEnrolment {
		return latchkey.Errorf(latchkey.EUNAUTHORIZED, "set up a second factor to finish signing in").
			WithDetail("reason", "second_factor_enrolment_required")
	}
	return latchkey.Errorf(latchkey.EUNAUTHORIZED, "enter your second factor to finish signing in").
		WithDetail("reason", "second_factor_required")
}

var errSessionEnded = latchkey.Errorf(latchkey.EUNAUTHORIZED, "your session has ended; log in again")

// openSession opens a session for u that signed in by in.Method, deciding
// the step it still waits for: a second factor when the user has one, an
// enrolment when they must have one.
func (s *Service) openSession(ctx context.Context, u *latchkey.User, in latchkey.SignIn) (string, error) {
	pending, err := s.pendingStep(ctx, u)
	if err != nil {
		return "", err
	}
	in.Pending = pending
	tok, sess, err := s.newSessionRecord(u.ID)
	if err != nil {
		return "", err
	}
	return tok, s.store.CreateSignInSession(ctx, sess, in)
}

func (s *Service) newSessionRecord(userID string) (string, *latchkey.Session, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", nil, err
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	now := s.Now()
	return tok, &latchkey.Session{Hash: sha256.Sum256([]byte(tok)), UserID: userID, CreatedAt: now, ExpiresAt: now.Add(s.ttl)}, nil
}

func (s *Service) pendingStep(ctx context.Context, u *latchkey.User) (string, error) {
	has, err := s.hasSecondFactor(ctx, u.ID)
	if err != nil || has {
		return latchkey.PendingSecondFactor, err
	}
	req, err := s.secondFactorRequired(ctx, u)
	if err != nil || req {
		return latchkey.PendingEnrolment, err
	}
	return "", nil
}

// secondFactorRequired: operators always, members of a workspace that
// requires one.
func (s *Service) secondFactorRequired(ctx context.Context, u *latchkey.User) (bool, error) {
	if u.Operator {
		return true, nil
	}
	ms, err := s.store.Memberships(ctx, u.ID)
	if err != nil {
		return true, err
	}
	for _, m := range ms {
		if !m.Active {
			continue
		}
		w, err := s.store.Workspace(ctx, m.WorkspaceID)
		if err != nil {
			return true, err
		}
		if w.Settings.RequireSecondFactor {
			return true, nil
		}
	}
	return false, nil
}

// signInSession resolves a session token, whatever step it waits for. A
// session opened by a workspace's single sign-on ends once the person's
// membership there is deprovisioned or removed: the identity provider
// vouched for them only as its member.
func (s *Service) signInSession(ctx context.Context, tok string) (*latchkey.User, *latchkey.SignIn, error) {
	if len(tok) == 0 || len(tok) > 100 {
		return nil, nil, latchkey.Errorf(latchkey.EUNAUTHORIZED, "not logged in")
	}
	hash := sha256.Sum256([]byte(tok))
	sess, in, err := s.store.SignInSession(ctx, hash, s.Now())
	if latchkey.IsNotFound(err) {
		return nil, nil, errSessionEnded
	}
	if err != nil {
		return nil, nil, err
	}
	if in.SSOWorkspaceID != "" {
		m, err := s.store.Member(ctx, in.SSOWorkspaceID, sess.UserID)
		switch {
		case latchkey.IsNotFound(err) || err == nil && !m.Active:
			_ = s.store.DeleteSession(ctx, hash)
			return nil, nil, errSessionEnded
		case err != nil:
			return nil, nil, err
		}
	}
	u, err := s.store.User(ctx, sess.UserID)
	if latchkey.IsNotFound(err) {
		return nil, nil, errSessionEnded
	}
	return u, in, err
}

// SessionCaller resolves a complete session to its caller; a session that
// waits for a second factor or an enrolment is refused, whatever it asks.
func (s *Service) SessionCaller(ctx context.Context, tok, ip string) (Caller, error) {
	u, in, err := s.signInSession(ctx, tok)
	if err != nil {
		return Caller{IP: ip}, err
	}
	if in.Pending != "" {
		return Caller{IP: ip}, errSessionPending(in.Pending)
	}
	return Caller{User: u, IP: ip, SignIn: in}, nil
}

// PendingSignIn resolves a session whatever step it waits for, for the
// pages and endpoints of those steps only.
func (s *Service) PendingSignIn(ctx context.Context, tok string) (*latchkey.User, *latchkey.SignIn, error) {
	return s.signInSession(ctx, tok)
}

// EnrolmentCaller resolves a session allowed to manage second factors: a
// complete one, or one that must enrol before it is. A session waiting for
// its second factor is refused: a password alone must not replace it.
func (s *Service) EnrolmentCaller(ctx context.Context, tok, ip string) (Caller, error) {
	u, in, err := s.signInSession(ctx, tok)
	if err != nil {
		return Caller{IP: ip}, err
	}
	if in.Pending == latchkey.PendingSecondFactor {
		return Caller{IP: ip}, errSessionPending(in.Pending)
	}
	return Caller{User: u, IP: ip, SignIn: in}, nil
}

// reaches decides whether a session reaches the workspace of m, an active
// membership of its user. A session opened by a workspace's single sign-on
// reaches that workspace only: one workspace's identity provider vouches
// for nobody elsewhere. A password session does not reach a workspace that
// requires single sign-on, unless it is an owner's break-glass sign-in.
func (s *Service) reaches(ctx context.Context, c Caller, m *latchkey.Member) (bool, error) {
	in := c.SignIn
	if in == nil {
		in = &latchkey.SignIn{Method: latchkey.SignInPassword}
	}
	if in.SSOWorkspaceID != "" {
		return in.SSOWorkspaceID == m.WorkspaceID, nil
	}
	cfg, err := s.store.SSOConfig(ctx, m.WorkspaceID)
	switch {
	case latchkey.IsNotFound(err):
		return true, nil
	case err != nil:
		return false, err
	case !cfg.RequireSSO || !cfg.Enabled():
		return true, nil
	}
	return in.Method == latchkey.SignInBreakGlass && m.Role == latchkey.RoleOwner, nil
}

// passwordSignIn decides how a user whose password was right signs in:
// refused when every workspace of theirs requires single sign-on (the
// refusal recorded in each), and as an owner's break-glass sign-in when
// asked, recorded in every workspace it opens.
func (s *Service) passwordSignIn(ctx context.Context, u *latchkey.User, ip string, breakGlass bool) (latchkey.SignIn, error) {
	in := latchkey.SignIn{Method: latchkey.SignInPassword}
	if breakGlass {
		in.Method = latchkey.SignInBreakGlass
	}
	if u.Operator {
		return in, nil
	}
	ms, err := s.store.Memberships(ctx, u.ID)
	if err != nil {
		return in, err
	}
	var reached, refused, glass []string
	c := Caller{User: u, SignIn: &in}
	plain := Caller{User: u, SignIn: &latchkey.SignIn{Method: latchkey.SignInPassword}}
	for _, m := range ms {
		if !m.Active {
			continue
		}
		ok, err := s.reaches(ctx, c, m)
		if err != nil {
			return in, err
		}
		if !ok {
			refused = append(refused, m.WorkspaceID)
			continue
		}
		reached = append(reached, m.WorkspaceID)
		if breakGlass {
			if byPassword, err := s.reaches(ctx, plain, m); err != nil {
				return in, err
			} else if !byPassword {
				glass = append(glass, m.WorkspaceID)
			}
		}
	}
	p := latchkey.Principal{Kind: latchkey.PrincipalUser, UserID: u.ID, Email: u.Email, IP: ip}
	if breakGlass && len(glass) == 0 {
		return in, latchkey.Errorf(latchkey.EFORBIDDEN, "break-glass sign-in is for owners of a workspace that requires single sign-on").
			WithDetail("reason", "break_glass_not_needed")
	}
	if len(reached) == 0 {
		for _, ws := range refused {
			_ = s.store.AppendEvent(ctx, s.event(p, ws, latchkey.EventSSOPasswordRefused, u.ID, nil))
		}
		return in, latchkey.Errorf(latchkey.EFORBIDDEN, "your workspace requires single sign-on: log in with your email only, without a password").
			WithDetail("reason", "sso_required")
	}
	for _, ws := range glass {
		_ = s.store.AppendEvent(ctx, s.event(p, ws, latchkey.EventSSOBreakGlass, u.ID, nil))
	}
	return in, nil
}

// userEvents makes one event per workspace the user belongs to, or one
// platform event for an operator, for a change to the user's own sign-in.
func (s *Service) userEvents(ctx context.Context, u *latchkey.User, action, ip string, data map[string]any) ([]latchkey.Event, error) {
	ms, err := s.store.Memberships(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	p := latchkey.Principal{Kind: latchkey.PrincipalUser, UserID: u.ID, Email: u.Email, IP: ip}
	if u.Operator {
		p.Kind = latchkey.PrincipalOperator
	}
	var evs []latchkey.Event
	for _, m := range ms {
		evs = append(evs, s.event(p, m.WorkspaceID, action, u.ID, data))
	}
	if len(evs) == 0 {
		evs = append(evs, s.event(p, "", action, u.ID, data))
	}
	return evs, nil
}

// finishSignIn replaces a pending session by a complete one, recording
// evs; a pending session finishes once.
func (s *Service) finishSignIn(ctx context.Context, old string, u *latchkey.User, in *latchkey.SignIn, evs []latchkey.Event) (string, error) {
	tok, sess, err := s.newSessionRecord(u.ID)
	if err != nil {
		return "", err
	}
	next := latchkey.SignIn{Method: in.Method, SSOWorkspaceID: in.SSOWorkspaceID}
	if err := s.store.ReplaceSession(ctx, sha256.Sum256([]byte(old)), sess, next, evs); err != nil {
		if latchkey.IsNotFound(err) {
			return "", errSessionEnded
		}
		return "", err
	}
	return tok, nil
}

// newSession opens a password session for a user who just chose their
// password (an accepted invitation), with the steps their workspaces ask.
func (s *Service) newSession(ctx context.Context, userID string) (string, error) {
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return "", err
	}
	return s.openSession(ctx, u, latchkey.SignIn{Method: latchkey.SignInPassword})
}
