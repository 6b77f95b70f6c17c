package latchkey

import (
	"slices"
	"time"
)

// Vault is an encrypted store of secrets in a workspace. Who may reveal
// its secrets is the vault's own list of roles and members, on top of the
// authorization table (which decides who may reveal at all).
type Vault struct {
	ID            string    `json:"id"`
	WorkspaceID   string    `json:"workspace_id"`
	Name          string    `json:"name"`
	Description   string    `json:"description"`
	RevealRoles   []Role    `json:"reveal_roles"`
	RevealMembers []string  `json:"reveal_members"` // user ids
	CreatedBy     string    `json:"created_by"`
	CreatedAt     time.Time `json:"created_at"`
}

// MayReveal reports whether the vault's list names p: by role, or by
// user id (a management key acts as its creator).
func (v *Vault) MayReveal(p Principal) bool {
	if p.Kind != PrincipalUser && p.Kind != PrincipalKey {
		return false
	}
	return p.Role != "" && (slices.Contains(v.RevealRoles, p.Role) || slices.Contains(v.RevealMembers, p.UserID))
}

// VaultSecret is a secret's metadata: never its value, which the store
// keeps only sealed (Sealed*), and which only a reveal returns.
type VaultSecret struct {
	ID          string `json:"id"`
	WorkspaceID string `json:"workspace_id"`
	VaultID     string `json:"vault_id"`
	Name        string `json:"name"`
	// KeyID links a secret saved from a key: the key's reset replaces it,
	// its deletion removes it. KeyRevoked marks it once the key is revoked.
	KeyID      string    `json:"key_id,omitempty"`
	KeyRevoked bool      `json:"key_revoked,omitempty"`
	CreatedBy  string    `json:"created_by"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
	Sealed     Sealed    `json:"-"`
}

// Sealed is a vault value as stored: encrypted under its own data key,
// which is wrapped by the master key of the keeper KeeperID.
type Sealed struct {
	Ciphertext []byte
	WrappedKey []byte
	KeeperID   string
}

// VaultKeeper is a master key's keeper as recorded for the servers: its
// id, its URL where the URL holds no key material, and when it became
// the one that wraps new data keys.
type VaultKeeper struct {
	ID          string
	URL         string
	ActivatedAt time.Time
}

// SealedRef is a sealed secret's place, for re-wrapping its data key.
type SealedRef struct {
	ID          string
	WorkspaceID string
	VaultID     string
	Sealed      Sealed
}

// Vault events; a reveal's event names the secret, the actor, the IP and
// the reason given, never the value.
const (
	EventVaultCreated   = "vault.created"
	EventVaultDeleted   = "vault.deleted"
	EventSecretCreated  = "secret.created"
	EventSecretReplaced = "secret.replaced"
	EventSecretDeleted  = "secret.deleted"
	EventSecretRevealed = "secret.revealed"
)

// Limits of vault input.
const (
	MaxSecretValue  = 64 << 10
	MaxRevealReason = 500
)
