package latchkey

import (
	"context"
	"time"
)

// SignInPasskey is a passwordless sign-in with a passkey: the passkey
// proved possession and the user's verification (PIN or biometrics) at
// once, so it is both factors.
const SignInPasskey = "passkey"

// Passkey events, recorded in every workspace of the user as second
// factor events are.
const (
	EventPasskeyAdded   = "mfa.passkey_added"
	EventPasskeyRemoved = "mfa.passkey_removed"
	// EventPasskeyCloned records an assertion whose signature counter did
	// not move forward: a copy of the authenticator may be in use. The
	// assertion is refused.
	EventPasskeyCloned = "mfa.passkey_clone_suspected"
)

// Passkey is a WebAuthn credential a user registered. Only its public key
// is stored. SignCount is the authenticator's signature counter as last
// seen: an assertion whose counter does not move past it is refused.
type Passkey struct {
	ID           string     `json:"id"`
	UserID       string     `json:"-"`
	CredentialID []byte     `json:"-"`
	PublicKey    []byte     `json:"-"`
	SignCount    uint32     `json:"-"`
	Transports   []string   `json:"transports"`
	AAGUID       []byte     `json:"-"`
	Flags        byte       `json:"-"` // the credential's backup flags, as go-webauthn keeps them
	Attestation  string     `json:"-"` // the attestation format at registration
	Name         string     `json:"name"`
	CreatedAt    time.Time  `json:"created_at"`
	LastUsedAt   *time.Time `json:"last_used_at"`
}

// Passkey ceremony kinds: what a ceremony's answer may be used for.
const (
	CeremonyRegister     = "register"
	CeremonyLogin        = "login"         // passwordless, any user
	CeremonySecondFactor = "second_factor" // the pending session's user
)

// PasskeyCeremony is a WebAuthn ceremony in flight: the challenge and
// what the answer is checked against, kept on the server and bound (by
// Hash) to the session or login attempt that began it. It is taken at
// its first use and expires within minutes.
type PasskeyCeremony struct {
	Hash      [32]byte
	Kind      string
	UserID    string // "" for a passwordless login
	Data      []byte // the library's session data, JSON
	ExpiresAt time.Time
}

// PasskeyStore keeps passkeys and their ceremonies.
type PasskeyStore interface {
	// Passkeys lists the user's passkeys, oldest first.
	Passkeys(ctx context.Context, userID string) ([]Passkey, error)
	// PasskeyByCredential returns the passkey with a credential id;
	// ENOTFOUND if none.
	PasskeyByCredential(ctx context.Context, credentialID []byte) (*Passkey, error)
	// CreatePasskey stores a new passkey and records evs; ECONFLICT when
	// its credential id is registered already, ENOTFOUND without the user.
	CreatePasskey(ctx context.Context, p *Passkey, evs []Event) error
	// RenamePasskey renames one of the user's passkeys; ENOTFOUND if the
	// user has no passkey id.
	RenamePasskey(ctx context.Context, userID, id, name string) error
	// DeletePasskey removes one of the user's passkeys and records evs;
	// ENOTFOUND if the user has no passkey id.
	DeletePasskey(ctx context.Context, userID, id string, evs []Event) error
	// UsePasskey moves the passkey's signature counter to count at at;
	// ECONFLICT when the stored counter is not below count (unless both
	// are 0: authenticators without a counter), so a replayed or cloned
	// assertion fails, also when two race. ENOTFOUND if it was removed.
	UsePasskey(ctx context.Context, id string, count uint32, at time.Time) error
	// PutPasskeyCeremony stores a ceremony, replacing one with its hash.
	PutPasskeyCeremony(ctx context.Context, c *PasskeyCeremony) error
	// TakePasskeyCeremony deletes and returns the ceremony with hash if it
	// has not expired at now; ENOTFOUND otherwise, and for its second use.
	TakePasskeyCeremony(ctx context.Context, hash [32]byte, now time.Time) (*PasskeyCeremony, error)
}
