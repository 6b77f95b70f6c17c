package manage

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"io"
	"strings"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

const (
	// ssoStateTTL bounds how long a person may stay at their identity
	// provider before coming back.
	ssoStateTTL = 10 * time.Minute
	// providerTTL is how long a provider's discovery document is kept.
	providerTTL = 10 * time.Minute
)

type cachedProvider struct {
	p  *oidc.Provider
	at time.Time
}

func (si *signin) forget(issuer string) {
	si.mu.Lock()
	defer si.mu.Unlock()
	delete(si.providers, issuer)
}

// provider discovers an issuer's endpoints and keys, kept a few minutes.
func (s *Service) provider(ctx context.Context, issuer string) (*oidc.Provider, error) {
	si := s.signin
	si.mu.Lock()
	c, ok := si.providers[issuer]
	si.mu.Unlock()
	if ok && s.now().Sub(c.at) < providerTTL {
		return c.p, nil
	}
	p, err := oidc.NewProvider(oidc.ClientContext(ctx, si.client), issuer)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EUNAVAILABLE, "the workspace's identity provider cannot be reached; try again later")
	}
	si.mu.Lock()
	if len(si.providers) > 1000 {
		clear(si.providers)
	}
	si.providers[issuer] = cachedProvider{p: p, at: s.now()}
	si.mu.Unlock()
	return p, nil
}

func (s *Service) oauthConfig(ctx context.Context, cfg *latchkey.SSOConfig, redirectURI string) (*oidc.Provider, *oauth2.Config, error) {
	secret, err := s.signin.box.Open(cfg.SealedSecret, "sso:"+cfg.WorkspaceID)
	if err != nil {
		return nil, nil, latchkey.Errorf(latchkey.EINTERNAL, "the SSO client secret cannot be opened: is this server's master key the one it was sealed with?")
	}
	p, err := s.provider(ctx, cfg.Issuer)
	if err != nil {
		return nil, nil, err
	}
	return p, &oauth2.Config{ClientID: cfg.ClientID, ClientSecret: string(secret), Endpoint: p.Endpoint(),
		RedirectURL: redirectURI, Scopes: []string{oidc.ScopeOpenID, "email", "profile"}}, nil
}

// ssoFor returns the single sign-on that email's domain signs in through;
// ENOTFOUND when none is set up, so the caller asks for a password.
func (s *Service) ssoFor(ctx context.Context, email string) (string, *latchkey.SSOConfig, error) {
	norm, err := latchkey.NormalizeEmail(email)
	if err != nil {
		return "", nil, err
	}
	cfg, err := s.store.SSOByDomain(ctx, latchkey.EmailDomain(norm))
	if err != nil {
		return "", nil, err
	}
	if !cfg.Enabled() {
		return "", nil, latchkey.Errorf(latchkey.ENOTFOUND, "single sign-on not found")
	}
	return norm, cfg, nil
}

// StartSSO begins a sign-in through the identity provider of the
// workspace that verified email's domain: it answers the provider's
// authorization URL (code flow with PKCE, a state and a nonce) and the
// state, which the caller keeps in a cookie of the person's browser, so
// the answer is accepted only there. ENOTFOUND when the domain has no
// single sign-on: then a password is asked for. Starts are counted per
// source, like one-time tokens, since each stores a request.
func (s *Service) StartSSO(ctx context.Context, email, next, redirectURI, ip string) (authURL, state string, err error) {
	norm, cfg, err := s.ssoFor(ctx, email)
	if err != nil {
		return "", "", err
	}
	res, err := s.reserveTokenUse("sso-start", ip)
	if err != nil {
		return "", "", err
	}
	// Every start counts as an attempt: a person starts a few, a flood
	// is refused.
	defer res.fail()
	_, conf, err := s.oauthConfig(ctx, cfg, redirectURI)
	if err != nil {
		return "", "", err
	}
	state, nonce := s.randomString(), s.randomString()
	verifier := oauth2.GenerateVerifier()
	err = s.store.CreateSSOState(ctx, &latchkey.SSOState{Hash: sha256.Sum256([]byte(state)), WorkspaceID: cfg.WorkspaceID,
		Email: norm, Nonce: nonce, Verifier: verifier, Next: next, ExpiresAt: s.Now().Add(ssoStateTTL)})
	if err != nil {
		return "", "", err
	}
	u := conf.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier), oauth2.SetAuthURLParam("login_hint", norm))
	return u, state, nil
}

// SSOResult is a finished single sign-on.
type SSOResult struct {
	User    *latchkey.User
	Session string
	Next    string
}

// errSSORefused is the answer to every refused sign-on; the reason is in
// the workspace's audit log, not in the answer.
func errSSORefused(reason string) error {
	msg := map[string]string{
		"state_mismatch":    "this sign-in did not start in this browser, or was used already: start again",
		"email_mismatch":    "your identity provider signed you in with another email address than the one you entered",
		"email_unverified":  "your identity provider did not confirm your email address",
		"domain_unverified": "your email's domain is not verified for this workspace's single sign-on",
		"not_a_member":      "you are not a member of this workspace: ask its owners to add you",
		"deprovisioned":     "your account in this workspace was deprovisioned",
	}[reason]
	if msg == "" {
		msg = "single sign-on failed: start again"
	}
	return latchkey.Errorf(latchkey.EUNAUTHORIZED, "%s", msg).WithDetail("reason", reason)
}

// FinishSSO completes a sign-in at the redirect URI: state (from the query)
// must be the one kept in this browser (cookie), and is usable once; the
// code is exchanged with the PKCE verifier; the ID token must be signed by
// the provider for this client, carry the nonce, and a verified email that
// is the one entered, of a domain the workspace verified. The person signs
// in as the workspace's member with that email (a SCIM-provisioned one
// needs no invitation), or, where the workspace allows it, becomes one.
// The session reaches that workspace only. Every refusal is recorded.
func (s *Service) FinishSSO(ctx context.Context, state, cookie, code, providerErr, redirectURI, ip string) (*SSOResult, error) {
	if cookie == "" || len(cookie) > 100 {
		return nil, errSSORefused("state_mismatch")
	}
	st, err := s.store.TakeSSOState(ctx, sha256.Sum256([]byte(cookie)), s.Now())
	if latchkey.IsNotFound(err) {
		return nil, errSSORefused("state_mismatch")
	}
	if err != nil {
		return nil, err
	}
	anon := latchkey.Principal{Kind: latchkey.PrincipalAnonymous, Email: st.Email, IP: ip}
	refuse := func(reason string) (*SSOResult, error) {
		_ = s.store.AppendEvent(ctx, s.event(anon, st.WorkspaceID, latchkey.EventSSORefused, st.WorkspaceID,
			map[string]any{"reason": reason, "email": st.Email}))
		return nil, errSSORefused(reason)
	}
	if subtle.ConstantTimeCompare([]byte(state), []byte(cookie)) != 1 {
		return refuse("state_mismatch")
	}
	if providerErr != "" {
		return refuse("provider_error")
	}
	cfg, err := s.store.SSOConfig(ctx, st.WorkspaceID)
	if err != nil || !cfg.Enabled() {
		return refuse("not_configured")
	}
	p, conf, err := s.oauthConfig(ctx, cfg, redirectURI)
	if err != nil {
		return nil, err
	}
	cctx := oidc.ClientContext(ctx, s.signin.client)
	tok, err := conf.Exchange(cctx, code, oauth2.VerifierOption(st.Verifier))
	if err != nil {
		return refuse("exchange_failed")
	}
	raw, _ := tok.Extra("id_token").(string)
	idt, err := p.Verifier(&oidc.Config{ClientID: cfg.ClientID, Now: s.now}).Verify(cctx, raw)
	if err != nil {
		return refuse("id_token_invalid")
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		return refuse("nonce_mismatch")
	}
	var claims struct {
		Email         string `json:"email"`
		EmailVerified any    `json:"email_verified"`
		Name          string `json:"name"`
	}
	if err := idt.Claims(&claims); err != nil {
		return refuse("id_token_invalid")
	}
	// Entra ID and some others send the boolean as a string.
	if v := claims.EmailVerified; v != true && v != "true" {
		return refuse("email_unverified")
	}
	email, err := latchkey.NormalizeEmail(claims.Email)
	if err != nil || email != st.Email {
		return refuse("email_mismatch")
	}
	verified := false
	for _, d := range cfg.Domains {
		verified = verified || d.Domain == latchkey.EmailDomain(email) && d.VerifiedAt != nil
	}
	if !verified {
		return refuse("domain_unverified")
	}
	m, err := s.memberByEmail(ctx, cfg.WorkspaceID, email)
	switch {
	case latchkey.IsNotFound(err) && cfg.JustInTime:
		if m, err = s.joinJustInTime(ctx, cfg.WorkspaceID, email, strings.TrimSpace(claims.Name), ip); err != nil {
			return nil, err
		}
	case latchkey.IsNotFound(err):
		return refuse("not_a_member")
	case err != nil:
		return nil, err
	case !m.Active:
		return refuse("deprovisioned")
	}
	u, err := s.store.User(ctx, m.UserID)
	if err != nil {
		return nil, err
	}
	session, err := s.openSession(ctx, u, latchkey.SignIn{Method: latchkey.SignInSSO, SSOWorkspaceID: cfg.WorkspaceID})
	if err != nil {
		return nil, err
	}
	p2 := latchkey.Principal{Kind: latchkey.PrincipalUser, UserID: u.ID, Email: u.Email, IP: ip}
	_ = s.store.AppendEvent(ctx, s.event(p2, cfg.WorkspaceID, latchkey.EventSSOLogin, u.ID, map[string]any{"issuer": cfg.Issuer}))
	return &SSOResult{User: u, Session: session, Next: st.Next}, nil
}

// memberByEmail finds the workspace's member with email, whatever account
// holds it; ENOTFOUND if none.
func (s *Service) memberByEmail(ctx context.Context, ws, email string) (*latchkey.Member, error) {
	ms, err := s.store.Members(ctx, ws)
	if err != nil {
		return nil, err
	}
	for _, m := range ms {
		if m.Email == email {
			return m, nil
		}
	}
	return nil, latchkey.Errorf(latchkey.ENOTFOUND, "member not found")
}

// joinJustInTime makes a member of the workspace for a person its
// identity provider vouched for: a new identity of this workspace alone
// (like a SCIM-provisioned one), never an existing account elsewhere,
// which joins only by its holder's acceptance.
func (s *Service) joinJustInTime(ctx context.Context, ws, email, name, ip string) (*latchkey.Member, error) {
	if len(name) > 200 {
		name = ""
	}
	u := &latchkey.User{ID: s.ids.New(id.User), Email: email, Name: name, CreatedAt: s.Now()}
	if err := s.store.CreateUser(ctx, u, nil); err != nil {
		return nil, err
	}
	m := &latchkey.Member{WorkspaceID: ws, UserID: u.ID, Role: latchkey.RoleMember, Active: true, CreatedAt: s.Now()}
	p := latchkey.Principal{Kind: latchkey.PrincipalUser, UserID: u.ID, Email: email, IP: ip}
	if err := s.store.AddMember(ctx, m, s.event(p, ws, latchkey.EventSSOMemberJoined, u.ID, map[string]any{"email": email})); err != nil {
		return nil, err
	}
	return m, nil
}

func (s *Service) randomString() string {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		panic(err)
	}
	return base64.RawURLEncoding.EncodeToString(b)
}
