package latchkey

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Platform key scopes: what the vendor's backend may do with a platform key.
const (
	ScopeWorkspacesRead  = "workspaces:read"
	ScopeWorkspacesWrite = "workspaces:write"
	ScopeMembersWrite    = "members:write"
	ScopePortalWrite     = "portal:write"
)

// PlatformScopes lists every platform key scope.
var PlatformScopes = []string{ScopeWorkspacesRead, ScopeWorkspacesWrite, ScopeMembersWrite, ScopePortalWrite}

// PlatformKey is a machine principal of the vendor: its product's backend
// provisions workspaces and their people and signs people into the console
// (portal sessions), within its scopes, never above MaxRole, and only in the
// workspaces its Product provisioned. It never sees a key secret. Only the
// SHA-256 of its secret is stored.
type PlatformKey struct {
	ID      string   `json:"id"`
	Name    string   `json:"name"`
	Product string   `json:"product"`
	Scopes  []string `json:"scopes"`
	// MaxRole is the highest role the key may give a person, by member sync
	// or by a portal session.
	MaxRole   Role       `json:"max_role"`
	Start     string     `json:"start"`
	Hash      [32]byte   `json:"-"`
	CreatedBy string     `json:"created_by"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at"`
	RevokedBy string     `json:"revoked_by,omitempty"`
}

var productPattern = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,39}$`)

// ValidateProduct checks a product label: 1–40 lower-case letters, digits,
// "-" or "_".
func ValidateProduct(p string) error {
	if !productPattern.MatchString(p) {
		return Errorf(EINVALID, "product must be 1–40 lower-case letters, digits, - or _").WithDetail("field", "product")
	}
	return nil
}

// ValidatePlatformScopes checks a platform key's scopes: at least one, each
// a platform scope, none twice.
func ValidatePlatformScopes(scopes []string) error {
	if len(scopes) == 0 {
		return Errorf(EINVALID, "a platform key needs at least one scope of %v", PlatformScopes).WithDetail("field", "scopes")
	}
	for i, s := range scopes {
		if !slices.Contains(PlatformScopes, s) {
			return Errorf(EINVALID, "unknown platform scope %q: use %v", s, PlatformScopes).WithDetail("field", "scopes")
		}
		if slices.Contains(scopes[:i], s) {
			return Errorf(EINVALID, "scope %q given twice", s).WithDetail("field", "scopes")
		}
	}
	return nil
}

var externalIDPattern = regexp.MustCompile(`^[A-Za-z0-9._:@|+=-]{1,200}$`)

// ValidateExternalID checks a product's own id for a customer or a person:
// 1–200 printable ASCII characters of a URL-safe kind, so that it can sit
// in a path as it is.
func ValidateExternalID(field, id string) error {
	if !externalIDPattern.MatchString(id) {
		return Errorf(EINVALID, "%s must be 1–200 characters of letters, digits and . _ : @ | + = -", field).WithDetail("field", field)
	}
	return nil
}

// ProvisionedWorkspace is a workspace a product provisioned, with the
// product's id for its customer.
type ProvisionedWorkspace struct {
	ID         string    `json:"id"`
	Name       string    `json:"name"`
	ExternalID string    `json:"external_id"`
	CreatedAt  time.Time `json:"created_at"`
}

// PortalIdentity binds a user to a product's person within one workspace.
type PortalIdentity struct {
	UserID      string
	WorkspaceID string
	ExternalID  string
}

// PortalToken is a one-time sign-in link minted by a platform key: it signs
// UserID into WorkspaceID once, before ExpiresAt.
type PortalToken struct {
	Hash        [32]byte
	UserID      string
	WorkspaceID string
	KeyID       string
	ReturnURL   string
	CreatedAt   time.Time
	ExpiresAt   time.Time
}

// PortalUser is a portal identity's sync: the person as the product knows
// them, and the role the product gives them.
type PortalUser struct {
	ExternalID string `json:"external_id"`
	Email      string `json:"email"`
	Name       string `json:"name"`
	Role       Role   `json:"role"`
}

// Origin returns the origin (scheme://host[:port]) of an absolute http(s)
// URL without credentials, or "" for anything else.
func Origin(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.User != nil || (u.Scheme != "https" && u.Scheme != "http") || len(raw) > 2000 {
		return ""
	}
	return strings.ToLower(u.Scheme + "://" + u.Host)
}

// PlatformStore keeps platform keys, provisioned workspaces, portal
// identities and portal sign-in links. Writes record their events in the
// same transaction (platform keys' in the platform chain, workspace "").
type PlatformStore interface {
	// CreatePlatformKey inserts k; ECONFLICT if its id or hash exists.
	CreatePlatformKey(ctx context.Context, k *PlatformKey, ev Event) error
	// PlatformKeys lists every platform key, revoked ones included, oldest first.
	PlatformKeys(ctx context.Context) ([]*PlatformKey, error)
	// PlatformKeyByHash finds the key whose secret hashes to h, revoked or
	// not; ENOTFOUND if none.
	PlatformKeyByHash(ctx context.Context, h [32]byte) (*PlatformKey, error)
	// RevokePlatformKey revokes a key at at by by, recording ev, and returns
	// it; revoking a revoked key changes nothing and records nothing.
	// ENOTFOUND if none.
	RevokePlatformKey(ctx context.Context, id string, at time.Time, by string, ev Event) (*PlatformKey, error)

	// ProvisionWorkspace inserts ws, with no member, bound to (product,
	// externalID), with ev, unless such a workspace exists: then it returns
	// that one and false, recording nothing.
	ProvisionWorkspace(ctx context.Context, ws *Workspace, product, externalID, keyID string, ev Event) (*ProvisionedWorkspace, bool, error)
	// ProvisionedWorkspaces lists the product's workspaces, oldest first,
	// only the one with externalID when it is not "".
	ProvisionedWorkspaces(ctx context.Context, product, externalID string) ([]*ProvisionedWorkspace, error)
	// WorkspaceProduct returns the product that provisioned a workspace;
	// ENOTFOUND when no product did.
	WorkspaceProduct(ctx context.Context, workspaceID string) (string, error)

	// SyncPortalMember makes the product's person externalID a member of
	// the workspace with role, in one transaction: it inserts newUser (an
	// unclaimed identity) and binds it when the workspace has no identity
	// for externalID, else updates the identity's email and name; it adds
	// the membership (active) or sets its role and activates it. fn sees the
	// membership as it was (nil if none) and returns the event to record (nil:
	// nothing changed). ECONFLICT when it would leave the workspace without
	// an active owner; ENOTFOUND if the workspace does not exist.
	SyncPortalMember(ctx context.Context, workspaceID, externalID string, newUser *User, role Role, fn func(prev *Member) (*Event, error)) (*Member, error)
	// PortalIdentity returns the identity of externalID in a workspace;
	// ENOTFOUND if none.
	PortalIdentity(ctx context.Context, workspaceID, externalID string) (*PortalIdentity, error)
	// PortalIdentityOf returns the portal identity of a user; ENOTFOUND
	// when the user is not one.
	PortalIdentityOf(ctx context.Context, userID string) (*PortalIdentity, error)

	// CreatePortalToken stores a sign-in link with ev.
	CreatePortalToken(ctx context.Context, t *PortalToken, ev Event) error
	// RedeemPortalToken uses an unexpired, unused link once and opens the
	// session sess for its user, in one transaction, and returns the link.
	// ENOTFOUND if the link is unknown, used or expired at now, or its user
	// is no longer an active member of its workspace.
	RedeemPortalToken(ctx context.Context, hash [32]byte, now time.Time, sess *Session) (*PortalToken, error)
}

// ActorPlatformKey is the actor type of a platform key (the vendor's
// backend) in the audit log.
const ActorPlatformKey = "platform_key"
