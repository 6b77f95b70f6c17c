package latchkey

import (
	"context"
	"net/url"
	"strings"
	"time"
)

// How a session signed in, and what it still lacks. A session is complete
// (its Pending is "") once every step its user must take is done; until
// then it opens only the step it waits for, never the console or the API.
const (
	// PendingSecondFactor waits for a TOTP code, a recovery code or a passkey.
	PendingSecondFactor = "second_factor"
	// PendingEnrolment waits for the user to enrol a second factor, which
	// an operator account or a workspace of theirs requires.
	PendingEnrolment = "enrolment"

	SignInPassword   = "password"
	SignInBreakGlass = "break_glass" // an owner's password past "Require SSO"
	SignInSSO        = "sso"
)

// SignIn is how a session was opened. SSOWorkspaceID names the workspace
// whose identity provider vouched for the person: such a session ends as
// soon as that workspace's membership is deprovisioned.
type SignIn struct {
	Method         string
	Pending        string
	SSOWorkspaceID string
}

// Sign-in events: every one is recorded in the workspaces it concerns.
const (
	EventSSOConfigured      = "sso.configured"
	EventSSODomainAdded     = "sso.domain_added"
	EventSSODomainVerified  = "sso.domain_verified"
	EventSSODomainRemoved   = "sso.domain_removed"
	EventSSOLogin           = "sso.login"
	EventSSORefused         = "sso.refused"
	EventSSOMemberJoined    = "sso.member_joined"
	EventSSOBreakGlass      = "sso.break_glass"
	EventSSOPasswordRefused = "sso.password_refused"
	EventMFAEnrolled        = "mfa.enrolled"
	EventMFARemoved         = "mfa.removed"
	EventMFAVerified        = "mfa.verified"
	EventMFAFailed          = "mfa.failed"
	EventMFARecoveryUsed    = "mfa.recovery_code_used"
	EventMFARecoveryRenewed = "mfa.recovery_codes_renewed"
)

// SSOConfig is a workspace's OpenID Connect single sign-on. The client
// secret is kept sealed (encrypted under the server's master key) and
// never leaves the server.
type SSOConfig struct {
	WorkspaceID  string `json:"workspace_id"`
	Issuer       string `json:"issuer"`
	ClientID     string `json:"client_id"`
	SealedSecret []byte `json:"-"`
	// RequireSSO refuses password logins to the workspace's members;
	// owners keep an audited break-glass path.
	RequireSSO bool `json:"require_sso"`
	// JustInTime makes a person who signs in through the workspace's
	// identity provider with an address of a verified domain a member
	// (role member) when they are not one yet.
	JustInTime bool        `json:"just_in_time"`
	Domains    []SSODomain `json:"domains"`
	UpdatedAt  time.Time   `json:"updated_at"`
}

// Enabled reports whether the configuration can sign people in.
func (c *SSOConfig) Enabled() bool {
	return c != nil && c.Issuer != "" && c.ClientID != "" && len(c.SealedSecret) > 0
}

// SSODomain is an email domain a workspace claims for its sign-on. It is
// verified by a DNS TXT record at _latchkey-challenge.<domain> holding
// Token; one domain is verified by at most one workspace.
type SSODomain struct {
	Domain     string     `json:"domain"`
	Token      string     `json:"token"`
	CreatedAt  time.Time  `json:"created_at"`
	VerifiedAt *time.Time `json:"verified_at"`
}

// ChallengeName is the DNS name whose TXT record proves control of domain.
func ChallengeName(domain string) string { return "_latchkey-challenge." + domain }

// NormalizeDomain lower-cases an email domain and checks its shape: ASCII
// labels of letters, digits and hyphens, at least two of them.
func NormalizeDomain(d string) (string, error) {
	d = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
	bad := Errorf(EINVALID, "invalid domain: write it like example.com").WithDetail("field", "domain")
	if len(d) == 0 || len(d) > 253 {
		return "", bad
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return "", bad
	}
	for _, l := range labels {
		if len(l) == 0 || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return "", bad
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", bad
			}
		}
	}
	return d, nil
}

// EmailDomain returns the domain of a normalized email.
func EmailDomain(email string) string {
	i := strings.LastIndexByte(email, '@')
	if i < 0 {
		return ""
	}
	return email[i+1:]
}

// ValidIssuer checks an OpenID issuer URL: https, or http on a loopback
// host (a provider on the same machine, or in tests).
func ValidIssuer(s string) error {
	u, err := url.Parse(s)
	bad := Errorf(EINVALID, "the issuer must be an https URL").WithDetail("field", "issuer")
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" || len(s) > 500 {
		return bad
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		h := u.Hostname()
		if h == "localhost" || h == "127.0.0.1" || h == "::1" {
			return nil
		}
	}
	return bad
}

// SSOState is one authorization request in flight: what the callback
// checks the provider's answer against. Only the SHA-256 of the state is
// stored, and it is taken (deleted) at its first use.
type SSOState struct {
	Hash        [32]byte
	WorkspaceID string
	Email       string
	Nonce       string
	Verifier    string // the PKCE code verifier
	Next        string
	ExpiresAt   time.Time
}

// TOTP is a user's authenticator app secret, sealed. It counts once
// Confirmed: a code from the app proved it was stored. LastStep is the
// last time step accepted, so a code is never accepted twice.
type TOTP struct {
	UserID       string
	SealedSecret []byte
	CreatedAt    time.Time
	ConfirmedAt  *time.Time
	LastStep     int64
}

// RecoveryCode is one of a user's one-time codes, by the SHA-256 of the code.
type RecoveryCode struct {
	ID   int64
	Hash [32]byte
}

// SignInStore keeps what single sign-on and second factors need.
type SignInStore interface {
	// CreateSignInSession stores a session with how it signed in.
	CreateSignInSession(ctx context.Context, s *Session, in SignIn) error
	// SignInSession returns an unexpired session with how it signed in
	// (password, complete, for a session stored by CreateSession);
	// ENOTFOUND otherwise.
	SignInSession(ctx context.Context, hash [32]byte, now time.Time) (*Session, *SignIn, error)
	// ReplaceSession ends the session old and opens s in its place, in one
	// transaction, recording evs; ENOTFOUND (and nothing changes) when old
	// no longer exists, so a pending session finishes at most once.
	ReplaceSession(ctx context.Context, old [32]byte, s *Session, in SignIn, evs []Event) error

	// TOTP returns the user's authenticator secret; ENOTFOUND if none.
	TOTP(ctx context.Context, userID string) (*TOTP, error)
	// StartTOTP stores an unconfirmed secret, replacing an unconfirmed
	// one; ECONFLICT if the user has a confirmed one.
	StartTOTP(ctx context.Context, t *TOTP) error
	// ConfirmTOTP confirms the user's secret at step, stores the recovery
	// codes (replacing any) and records evs; ECONFLICT when already
	// confirmed, ENOTFOUND when not started.
	ConfirmTOTP(ctx context.Context, userID string, at time.Time, step int64, codes [][32]byte, evs []Event) error
	// UseTOTPStep records step as used; ECONFLICT when it (or a later one)
	// was, which makes a code good once; ENOTFOUND without a confirmed secret.
	UseTOTPStep(ctx context.Context, userID string, step int64) error
	// DeleteTOTP removes the secret and the recovery codes, recording evs;
	// ENOTFOUND if none.
	DeleteTOTP(ctx context.Context, userID string, evs []Event) error
	// RecoveryCodes lists the user's unused recovery codes.
	RecoveryCodes(ctx context.Context, userID string) ([]RecoveryCode, error)
	// UseRecoveryCode marks one code used and records evs; ECONFLICT if it
	// was used already, so of two uses at once one fails.
	UseRecoveryCode(ctx context.Context, userID string, id int64, at time.Time, evs []Event) error
	// ReplaceRecoveryCodes replaces the user's codes and records evs.
	ReplaceRecoveryCodes(ctx context.Context, userID string, codes [][32]byte, at time.Time, evs []Event) error

	// SSOConfig returns a workspace's sign-on with its domains; ENOTFOUND
	// if it has none.
	SSOConfig(ctx context.Context, workspaceID string) (*SSOConfig, error)
	// UpdateSSOConfig loads the workspace's sign-on (a zero one if none),
	// applies fn and stores it with fn's event; fn's error or nil event
	// changes nothing. ENOTFOUND if the workspace does not exist.
	UpdateSSOConfig(ctx context.Context, workspaceID string, fn func(c *SSOConfig) (*Event, error)) (*SSOConfig, error)
	// AddSSODomain claims a domain for the workspace, unverified;
	// ECONFLICT if the workspace claims it already.
	AddSSODomain(ctx context.Context, workspaceID string, d SSODomain, ev Event) error
	// VerifySSODomain marks the workspace's claim verified at at;
	// ENOTFOUND without the claim, ECONFLICT if another workspace
	// verified the domain.
	VerifySSODomain(ctx context.Context, workspaceID, domain string, at time.Time, ev Event) error
	// RemoveSSODomain drops a claim; ENOTFOUND if none.
	RemoveSSODomain(ctx context.Context, workspaceID, domain string, ev Event) error
	// SSOByDomain returns the sign-on of the workspace that verified
	// domain; ENOTFOUND if none did.
	SSOByDomain(ctx context.Context, domain string) (*SSOConfig, error)
	// CreateSSOState stores an authorization request in flight.
	CreateSSOState(ctx context.Context, st *SSOState) error
	// TakeSSOState deletes and returns the request with hash if it has
	// not expired at now; ENOTFOUND otherwise, and for its second use.
	TakeSSOState(ctx context.Context, hash [32]byte, now time.Time) (*SSOState, error)
}
