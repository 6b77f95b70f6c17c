package manage

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/token"
	"github.com/latchkey/latchkey/internal/vault"
)

// Sealer encrypts vault values by envelope; *vault.Keyring implements it.
type Sealer interface {
	Seal(ctx context.Context, aad, value []byte) (latchkey.Sealed, error)
	Open(ctx context.Context, s latchkey.Sealed, aad []byte) ([]byte, error)
}

// Id prefixes of vaults and their secrets.
const (
	vaultPrefix  = "vlt"
	secretPrefix = "sec"
)

// SaveToVault asks that a key's new secret be kept in a vault.
type SaveToVault struct {
	VaultID string `json:"vault_id"`
}

// CreateVault is the input of a vault's creation. Without reveal roles or
// members, owners, super admins and admins may reveal.
type CreateVault struct {
	Name          string          `json:"name"`
	Description   string          `json:"description"`
	RevealRoles   []latchkey.Role `json:"reveal_roles"`
	RevealMembers []string        `json:"reveal_members"`
}

// CreateSecret is the input of a secret's creation.
type CreateSecret struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

func (s *Service) sealer() (Sealer, error) {
	if s.vaults == nil {
		return nil, latchkey.Errorf(latchkey.EUNPROCESSABLE, "vaults are off on this server: it was started without a master key (--vault-key-url)")
	}
	return s.vaults, nil
}

// CreateVault creates a vault in ws.
func (s *Service) CreateVault(ctx context.Context, p latchkey.Principal, ws string, in CreateVault) (*latchkey.Vault, error) {
	if _, err := s.workspace(ctx, p, ws, latchkey.ActVaultsWrite); err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := firstError(latchkey.ValidateName("name", in.Name, 100), latchkey.ValidateDescription(in.Description)); err != nil {
		return nil, err
	}
	if len(in.RevealRoles) == 0 && len(in.RevealMembers) == 0 {
		in.RevealRoles = []latchkey.Role{latchkey.RoleOwner, latchkey.RoleSuperAdmin, latchkey.RoleAdmin}
	}
	if len(in.RevealRoles)+len(in.RevealMembers) > 100 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "a vault names at most 100 roles and members").WithDetail("field", "reveal_members")
	}
	roles := []latchkey.Role{}
	for _, r := range in.RevealRoles {
		if !r.Valid() {
			return nil, latchkey.Errorf(latchkey.EINVALID, "unknown role %q", r).WithDetail("field", "reveal_roles")
		}
		if !slices.Contains(roles, r) {
			roles = append(roles, r)
		}
	}
	members := []string{}
	for _, u := range in.RevealMembers {
		if !id.Valid(id.User, u) {
			return nil, latchkey.Errorf(latchkey.EINVALID, "reveal_members must be user ids of this workspace's members").WithDetail("field", "reveal_members")
		}
		// Only this workspace's members: an id from another workspace is
		// refused as if it did not exist.
		if _, err := s.store.Member(ctx, ws, u); err != nil {
			if latchkey.IsNotFound(err) {
				return nil, latchkey.Errorf(latchkey.EINVALID, "%s is not a member of this workspace", u).WithDetail("field", "reveal_members")
			}
			return nil, err
		}
		if !slices.Contains(members, u) {
			members = append(members, u)
		}
	}
	v := &latchkey.Vault{ID: s.ids.New(vaultPrefix), WorkspaceID: ws, Name: in.Name, Description: in.Description,
		RevealRoles: roles, RevealMembers: members, CreatedBy: p.UserID, CreatedAt: s.Now()}
	ev := s.event(p, ws, latchkey.EventVaultCreated, v.ID, map[string]any{"name": v.Name, "reveal_roles": roles, "reveal_members": members})
	if err := s.store.CreateVault(ctx, v, ev); err != nil {
		return nil, err
	}
	return v, nil
}

// ListVaults lists the vaults of ws that p may see: all for those the
// table grants every vault, else those whose reveal list names p.
func (s *Service) ListVaults(ctx context.Context, p latchkey.Principal, ws string) ([]*latchkey.Vault, error) {
	if err := latchkey.Authorize(p, latchkey.ActVaultsRead, latchkey.Target{WorkspaceID: ws}); err != nil {
		return nil, err
	}
	list, err := s.store.Vaults(ctx, ws)
	if err != nil {
		return nil, err
	}
	if p.Grant(latchkey.ActVaultsRead) != latchkey.All {
		list = slices.DeleteFunc(list, func(v *latchkey.Vault) bool { return !v.MayReveal(p) })
	}
	return list, nil
}

// authorizedVault loads a vault p may do a in; one p may not see answers
// ENOTFOUND whether or not it exists.
func (s *Service) authorizedVault(ctx context.Context, p latchkey.Principal, ws, vaultID string, a latchkey.Action) (*latchkey.Vault, error) {
	if err := latchkey.Authorize(p, a, latchkey.Target{WorkspaceID: ws}); err != nil {
		return nil, err
	}
	if !id.Valid(vaultPrefix, vaultID) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "vault not found")
	}
	v, err := s.store.Vault(ctx, ws, vaultID)
	if err != nil {
		return nil, err
	}
	if p.Grant(latchkey.ActVaultsRead) != latchkey.All && !v.MayReveal(p) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "vault not found")
	}
	return v, nil
}

// Vault returns a vault of ws with its secrets' metadata.
func (s *Service) Vault(ctx context.Context, p latchkey.Principal, ws, vaultID string) (*latchkey.Vault, []*latchkey.VaultSecret, error) {
	v, err := s.authorizedVault(ctx, p, ws, vaultID, latchkey.ActVaultsRead)
	if err != nil {
		return nil, nil, err
	}
	secrets, err := s.store.VaultSecrets(ctx, ws, vaultID)
	return v, secrets, err
}

// DeleteVault deletes a vault and every secret in it.
func (s *Service) DeleteVault(ctx context.Context, p latchkey.Principal, ws, vaultID string) error {
	v, err := s.authorizedVault(ctx, p, ws, vaultID, latchkey.ActVaultsWrite)
	if err != nil {
		return err
	}
	return s.store.DeleteVault(ctx, ws, v.ID, s.event(p, ws, latchkey.EventVaultDeleted, v.ID, map[string]any{"name": v.Name}))
}

// CreateSecret seals a value into a vault of ws.
func (s *Service) CreateSecret(ctx context.Context, p latchkey.Principal, ws, vaultID string, in CreateSecret) (*latchkey.VaultSecret, error) {
	sealer, err := s.sealer()
	if err != nil {
		return nil, err
	}
	v, err := s.authorizedVault(ctx, p, ws, vaultID, latchkey.ActVaultsWrite)
	if err != nil {
		return nil, err
	}
	in.Name = strings.TrimSpace(in.Name)
	if err := latchkey.ValidateName("name", in.Name, 100); err != nil {
		return nil, err
	}
	if in.Value == "" || len(in.Value) > latchkey.MaxSecretValue || !utf8.ValidString(in.Value) {
		return nil, latchkey.Errorf(latchkey.EINVALID, "value must be 1 byte to 64 KiB of UTF-8 text").WithDetail("field", "value")
	}
	sec, err := s.sealNew(ctx, sealer, p, v, in.Name, "", in.Value)
	if err != nil {
		return nil, err
	}
	ev := s.event(p, ws, latchkey.EventSecretCreated, sec.ID, map[string]any{"vault_id": v.ID, "name": sec.Name})
	if err := s.store.CreateSecret(ctx, sec, ev); err != nil {
		return nil, err
	}
	return sec, nil
}

// sealNew seals value as a new secret of v, not stored yet.
func (s *Service) sealNew(ctx context.Context, sealer Sealer, p latchkey.Principal, v *latchkey.Vault, name, keyID, value string) (*latchkey.VaultSecret, error) {
	now := s.Now()
	sec := &latchkey.VaultSecret{ID: s.ids.New(secretPrefix), WorkspaceID: v.WorkspaceID, VaultID: v.ID, Name: name,
		KeyID: keyID, CreatedBy: p.UserID, CreatedAt: now, UpdatedAt: now}
	sealed, err := sealer.Seal(ctx, vault.AAD(sec.WorkspaceID, sec.VaultID, sec.ID), []byte(value))
	if err != nil {
		return nil, fmt.Errorf("sealing a vault secret: %w", err)
	}
	sec.Sealed = sealed
	return sec, nil
}

// Secret returns a secret's metadata.
func (s *Service) Secret(ctx context.Context, p latchkey.Principal, ws, vaultID, secretID string) (*latchkey.VaultSecret, error) {
	if _, err := s.authorizedVault(ctx, p, ws, vaultID, latchkey.ActVaultsRead); err != nil {
		return nil, err
	}
	if !id.Valid(secretPrefix, secretID) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "secret not found")
	}
	return s.store.VaultSecret(ctx, ws, vaultID, secretID)
}

// RevealSecret returns a secret's value to p, whom the vault's reveal list
// must name, after recording who asked, from where and why.
func (s *Service) RevealSecret(ctx context.Context, p latchkey.Principal, ws, vaultID, secretID, reason string) (string, error) {
	sealer, err := s.sealer()
	if err != nil {
		return "", err
	}
	v, err := s.authorizedVault(ctx, p, ws, vaultID, latchkey.ActSecretReveal)
	if err != nil {
		return "", err
	}
	if !v.MayReveal(p) {
		return "", latchkey.Errorf(latchkey.EFORBIDDEN, "this vault does not let you reveal its secrets; its reveal list names roles %v and chosen members", v.RevealRoles)
	}
	reason = strings.TrimSpace(reason)
	if reason == "" || utf8.RuneCountInString(reason) > latchkey.MaxRevealReason || strings.ContainsFunc(reason, isControl) {
		return "", latchkey.Errorf(latchkey.EINVALID, "give a reason of 1 to 500 characters for revealing the secret").WithDetail("field", "reason")
	}
	if !id.Valid(secretPrefix, secretID) {
		return "", latchkey.Errorf(latchkey.ENOTFOUND, "secret not found")
	}
	sec, err := s.store.VaultSecret(ctx, ws, vaultID, secretID)
	if err != nil {
		return "", err
	}
	value, err := sealer.Open(ctx, sec.Sealed, vault.AAD(sec.WorkspaceID, sec.VaultID, sec.ID))
	if errors.Is(err, vault.ErrOpen) {
		return "", latchkey.Errorf(latchkey.EINTERNAL, "the secret cannot be decrypted: it was altered or moved in the database")
	}
	if err != nil {
		return "", err
	}
	ev := s.event(p, ws, latchkey.EventSecretRevealed, sec.ID, map[string]any{"vault_id": v.ID, "name": sec.Name, "reason": reason})
	// The reveal is on record before the value leaves, or it does not leave.
	if err := s.store.AppendEvent(ctx, ev); err != nil {
		return "", err
	}
	return string(value), nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// DeleteSecret deletes a secret.
func (s *Service) DeleteSecret(ctx context.Context, p latchkey.Principal, ws, vaultID, secretID string) error {
	if _, err := s.authorizedVault(ctx, p, ws, vaultID, latchkey.ActVaultsWrite); err != nil {
		return err
	}
	if !id.Valid(secretPrefix, secretID) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "secret not found")
	}
	return s.store.DeleteSecret(ctx, ws, vaultID, secretID, s.event(p, ws, latchkey.EventSecretDeleted, secretID, map[string]any{"vault_id": vaultID}))
}

// keyVault checks, before a key is made or reset, that p may save its
// secret into the vault of save, and returns the vault and the sealer.
func (s *Service) keyVault(ctx context.Context, p latchkey.Principal, ws string, save *SaveToVault) (*latchkey.Vault, Sealer, error) {
	sealer, err := s.sealer()
	if err != nil {
		return nil, nil, err
	}
	v, err := s.authorizedVault(ctx, p, ws, save.VaultID, latchkey.ActVaultsWrite)
	if latchkey.IsNotFound(err) {
		err = latchkey.Errorf(latchkey.ENOTFOUND, "vault not found").WithDetail("field", "save_to_vault")
	}
	if err != nil {
		return nil, nil, err
	}
	return v, sealer, nil
}

// keySecretName names a key's secret in a vault, uniquely.
func keySecretName(k *latchkey.Key) string { return k.Name + " (" + k.ID + ")" }

// saveNewKey stores a new key's secret in v. Should that fail, the key is
// deleted again: a key whose secret the caller asked to keep and that is
// not kept would be a key nobody holds.
func (s *Service) saveNewKey(ctx context.Context, p latchkey.Principal, v *latchkey.Vault, sealer Sealer, k *latchkey.Key, secret string) error {
	sec, err := s.sealNew(ctx, sealer, p, v, keySecretName(k), k.ID, secret)
	if err == nil {
		ev := s.event(p, k.WorkspaceID, latchkey.EventSecretCreated, sec.ID, map[string]any{"vault_id": v.ID, "name": sec.Name, "key_id": k.ID})
		if err = s.store.CreateSecret(ctx, sec, ev); err == nil {
			return nil
		}
	}
	undo := s.event(p, k.WorkspaceID, latchkey.EventKeyDeleted, k.ID, map[string]any{"name": k.Name, "reason": "save_to_vault failed"})
	if derr := s.store.DeleteKey(ctx, k.WorkspaceID, k.ID, undo); derr != nil && !latchkey.IsNotFound(derr) {
		return errors.Join(err, derr)
	}
	s.invalidateKey(k.ID)
	return err
}

// replaceKeySecret keeps a reset key's vault secret current: the secret
// linked to the key takes the new value (moved to the vault of save when
// that is another one), or a new secret is saved where save asks.
func (s *Service) replaceKeySecret(ctx context.Context, p latchkey.Principal, k *latchkey.Key, secret string, target *latchkey.Vault) error {
	linked, err := s.store.KeySecret(ctx, k.WorkspaceID, k.ID)
	if err != nil && !latchkey.IsNotFound(err) {
		return err
	}
	if linked == nil && target == nil {
		return nil
	}
	sealer, err := s.sealer()
	if err != nil {
		return err
	}
	if linked != nil && (target == nil || target.ID == linked.VaultID) {
		sealed, err := sealer.Seal(ctx, vault.AAD(linked.WorkspaceID, linked.VaultID, linked.ID), []byte(secret))
		if err != nil {
			return fmt.Errorf("sealing a vault secret: %w", err)
		}
		ev := s.event(p, k.WorkspaceID, latchkey.EventSecretReplaced, linked.ID, map[string]any{"vault_id": linked.VaultID, "key_id": k.ID})
		return s.store.ReplaceSecret(ctx, k.WorkspaceID, linked.ID, sealed, s.Now(), ev)
	}
	if linked != nil {
		ev := s.event(p, k.WorkspaceID, latchkey.EventSecretDeleted, linked.ID, map[string]any{"vault_id": linked.VaultID, "key_id": k.ID})
		if err := s.store.DeleteSecret(ctx, k.WorkspaceID, linked.VaultID, linked.ID, ev); err != nil && !latchkey.IsNotFound(err) {
			return err
		}
	}
	sec, err := s.sealNew(ctx, sealer, p, target, keySecretName(k), k.ID, secret)
	if err != nil {
		return err
	}
	ev := s.event(p, k.WorkspaceID, latchkey.EventSecretCreated, sec.ID, map[string]any{"vault_id": target.ID, "name": sec.Name, "key_id": k.ID})
	return s.store.CreateSecret(ctx, sec, ev)
}

// SaveKeyToVault keeps a key's secret in a vault after the key was made,
// as the console's "Save in vault" does on the page that shows the secret
// once. The caller proves it holds the secret: it must hash to the key's
// current hash (compared in constant time), so nobody stores a made-up
// value under a key's name. ECONFLICT if the key's secret is kept already,
// EINVALID if secret is not the key's.
func (s *Service) SaveKeyToVault(ctx context.Context, p latchkey.Principal, ws, keyID, secret, vaultID string) (*latchkey.VaultSecret, error) {
	k, err := s.authorizedKey(ctx, p, ws, keyID, latchkey.ActKeysRead)
	if err != nil {
		return nil, err
	}
	h := token.Hash(secret)
	if subtle.ConstantTimeCompare(h[:], k.Hash[:]) != 1 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "this is not the key's current secret").WithDetail("field", "secret")
	}
	if k.RevokedAt != nil {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "the key is revoked: its secret is of no use to keep")
	}
	v, sealer, err := s.keyVault(ctx, p, ws, &SaveToVault{VaultID: vaultID})
	if err != nil {
		return nil, err
	}
	if linked, err := s.store.KeySecret(ctx, ws, k.ID); err == nil {
		return nil, latchkey.Errorf(latchkey.ECONFLICT, "the key's secret is kept already").WithDetail("vault_id", linked.VaultID)
	} else if !latchkey.IsNotFound(err) {
		return nil, err
	}
	sec, err := s.sealNew(ctx, sealer, p, v, keySecretName(k), k.ID, secret)
	if err != nil {
		return nil, err
	}
	ev := s.event(p, ws, latchkey.EventSecretCreated, sec.ID, map[string]any{"vault_id": v.ID, "name": sec.Name, "key_id": k.ID})
	if err := s.store.CreateSecret(ctx, sec, ev); err != nil {
		return nil, err
	}
	return sec, nil
}
