package manage

import (
	"context"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"hash/crc32"
	"io"
	"slices"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

// Platform keys are kept apart from the keys the verify path serves (their
// own table and token shape): a platform key must never verify as a
// product's key, and a product key must never call the platform endpoints.
// They are not cached: every call looks the key up in the store, so a
// revocation holds on every instance the moment it commits. Platform calls
// are management calls, which touch the store anyway; the verify path's
// cache is for the product's traffic.

// Events of platform keys.
const (
	EventPlatformKeyCreated = "platform_key.created"
	EventPlatformKeyRevoked = "platform_key.revoked"
)

// platformBody is the length of a platform secret after its marker: 32
// base32 characters (160 bits from the random source) and 8 hex digits of
// CRC32, which lets a typo or a random probe be refused without a lookup.
const platformBody = 32 + 8

var platformEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// platformMarker is what every platform secret starts with: "lk_platform_"
// for the default token prefix.
func (s *Service) platformMarker() string { return s.format.Prefix() + "_platform_" }

// IsPlatformSecret reports whether tok has the shape of a platform key's
// secret, so a caller can tell it from a management key before any lookup.
func (s *Service) IsPlatformSecret(tok string) bool {
	return strings.HasPrefix(tok, s.platformMarker())
}

func (s *Service) newPlatformSecret() (secret, start string, err error) {
	b := make([]byte, 20)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", "", err
	}
	head := s.platformMarker() + platformEncoding.EncodeToString(b)
	secret = head + fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(head)))
	return secret, secret[:len(s.platformMarker())+4], nil
}

func (s *Service) wellFormedPlatformSecret(tok string) bool {
	m := s.platformMarker()
	if len(tok) != len(m)+platformBody || !strings.HasPrefix(tok, m) {
		return false
	}
	cut := len(tok) - 8
	return fmt.Sprintf("%08x", crc32.ChecksumIEEE([]byte(tok[:cut]))) == tok[cut:]
}

// errPlatformKey is the one answer to a platform secret that is malformed,
// unknown or revoked.
var errPlatformKey = latchkey.Errorf(latchkey.EUNAUTHORIZED, "this platform key is unknown or revoked").WithDetail("reason", "platform_key_invalid")

// PlatformKeyOf returns the live platform key whose secret is tok.
func (s *Service) PlatformKeyOf(ctx context.Context, tok string) (*latchkey.PlatformKey, error) {
	if !s.wellFormedPlatformSecret(tok) {
		return nil, errPlatformKey
	}
	k, err := s.store.PlatformKeyByHash(ctx, sha256.Sum256([]byte(tok)))
	if latchkey.IsNotFound(err) || (err == nil && k.RevokedAt != nil) {
		return nil, errPlatformKey
	}
	return k, err
}

// NewPlatformKey is an operator's request for a platform key.
type NewPlatformKey struct {
	Name    string        `json:"name"`
	Product string        `json:"product"`
	Scopes  []string      `json:"scopes"`
	MaxRole latchkey.Role `json:"max_role"`
}

// DefaultProduct is the product of platform keys created without one.
const DefaultProduct = "default"

// CreatePlatformKey creates a platform key for an operator and returns its
// secret, shown this once.
func (s *Service) CreatePlatformKey(ctx context.Context, p latchkey.Principal, in NewPlatformKey) (*latchkey.PlatformKey, string, error) {
	if err := latchkey.Authorize(p, latchkey.ActPlatformKeysManage, latchkey.Target{}); err != nil {
		return nil, "", err
	}
	return s.createPlatformKey(ctx, p, p.UserID, in)
}

// CreatePlatformKeyOnHost creates a platform key for the host's
// administrator (the CLI, which holds the store).
func (s *Service) CreatePlatformKeyOnHost(ctx context.Context, in NewPlatformKey) (*latchkey.PlatformKey, string, error) {
	return s.createPlatformKey(ctx, latchkey.Principal{}, "host", in)
}

func (s *Service) createPlatformKey(ctx context.Context, p latchkey.Principal, by string, in NewPlatformKey) (*latchkey.PlatformKey, string, error) {
	name := strings.TrimSpace(in.Name)
	if err := latchkey.ValidateKeyName(name); err != nil {
		return nil, "", err
	}
	if in.Product == "" {
		in.Product = DefaultProduct
	}
	if err := latchkey.ValidateProduct(in.Product); err != nil {
		return nil, "", err
	}
	if err := latchkey.ValidatePlatformScopes(in.Scopes); err != nil {
		return nil, "", err
	}
	if in.MaxRole == "" {
		in.MaxRole = latchkey.RoleAdmin
	}
	if !in.MaxRole.Valid() {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, "max_role must be owner, super_admin, admin or member").WithDetail("field", "max_role")
	}
	secret, start, err := s.newPlatformSecret()
	if err != nil {
		return nil, "", err
	}
	k := &latchkey.PlatformKey{ID: s.ids.New("pk"), Name: name, Product: in.Product, Scopes: slices.Clone(in.Scopes),
		MaxRole: in.MaxRole, Start: start, Hash: sha256.Sum256([]byte(secret)), CreatedBy: by, CreatedAt: s.Now()}
	ev := s.event(p, "", EventPlatformKeyCreated, k.ID, map[string]any{"name": name, "product": k.Product, "scopes": k.Scopes, "max_role": k.MaxRole})
	if p.Kind == latchkey.PrincipalAnonymous {
		ev.Actor = latchkey.Actor{Type: latchkey.ActorSystem, Label: "latchkey operator platform-key"}
	}
	if err := s.store.CreatePlatformKey(ctx, k, ev); err != nil {
		return nil, "", err
	}
	return k, secret, nil
}

// PlatformKeys lists every platform key, for operators.
func (s *Service) PlatformKeys(ctx context.Context, p latchkey.Principal) ([]*latchkey.PlatformKey, error) {
	if err := latchkey.Authorize(p, latchkey.ActPlatformKeysManage, latchkey.Target{}); err != nil {
		return nil, err
	}
	return s.store.PlatformKeys(ctx)
}

// RevokePlatformKey revokes a platform key for an operator: its next call,
// on any instance, is refused. Idempotent.
func (s *Service) RevokePlatformKey(ctx context.Context, p latchkey.Principal, keyID string) (*latchkey.PlatformKey, error) {
	if err := latchkey.Authorize(p, latchkey.ActPlatformKeysManage, latchkey.Target{}); err != nil {
		return nil, err
	}
	if len(keyID) > 100 {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "platform key not found")
	}
	now := s.Now()
	return s.store.RevokePlatformKey(ctx, keyID, now, p.UserID, s.event(p, "", EventPlatformKeyRevoked, keyID, nil))
}

// NewProvisionedWorkspace is a product's request for its customer's workspace.
type NewProvisionedWorkspace struct {
	Name       string `json:"name"`
	ExternalID string `json:"external_id"`
}

// ProvisionWorkspace creates the workspace of a product's customer, unless
// the product has one for the same external id: then it returns that one
// (created false), so a retried signup makes no second workspace. The
// workspace starts with no member: the product syncs its people.
func (s *Service) ProvisionWorkspace(ctx context.Context, p latchkey.Principal, in NewProvisionedWorkspace) (*latchkey.ProvisionedWorkspace, bool, error) {
	if p.Kind != latchkey.PrincipalPlatform {
		return nil, false, latchkey.Errorf(latchkey.EFORBIDDEN, "only platform keys provision workspaces by external_id")
	}
	if err := latchkey.Authorize(p, latchkey.ActWorkspacesCreate, latchkey.Target{}); err != nil {
		return nil, false, err
	}
	name := strings.TrimSpace(in.Name)
	if err := latchkey.ValidateWorkspaceName(name); err != nil {
		return nil, false, err
	}
	if err := latchkey.ValidateExternalID("external_id", in.ExternalID); err != nil {
		return nil, false, err
	}
	now := s.Now()
	w := &latchkey.Workspace{ID: s.ids.New(id.Workspace), Name: name, Settings: latchkey.DefaultSettings(), CreatedAt: now}
	ev := s.event(p, w.ID, latchkey.EventWorkspaceCreated, w.ID, map[string]any{"name": name, "external_id": in.ExternalID, "product": p.Product})
	return s.store.ProvisionWorkspace(ctx, w, p.Product, in.ExternalID, p.KeyID, ev)
}

// ProvisionedWorkspaces lists the caller's product's workspaces, only the
// one with externalID when it is not "".
func (s *Service) ProvisionedWorkspaces(ctx context.Context, p latchkey.Principal, externalID string) ([]*latchkey.ProvisionedWorkspace, error) {
	if p.Kind != latchkey.PrincipalPlatform {
		return nil, latchkey.Errorf(latchkey.EFORBIDDEN, "only platform keys look workspaces up by external_id")
	}
	if err := latchkey.Authorize(p, latchkey.ActWorkspacesList, latchkey.Target{}); err != nil {
		return nil, err
	}
	if externalID != "" {
		if err := latchkey.ValidateExternalID("external_id", externalID); err != nil {
			return nil, err
		}
	}
	return s.store.ProvisionedWorkspaces(ctx, p.Product, externalID)
}
