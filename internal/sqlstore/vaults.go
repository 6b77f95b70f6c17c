package sqlstore

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

const vaultColumns = `id, workspace_id, name, description, reveal_roles, reveal_members, created_by, created_at`

func scanVault(row Row) (*latchkey.Vault, error) {
	var v latchkey.Vault
	var roles, members []byte
	if err := row.Scan(&v.ID, &v.WorkspaceID, &v.Name, &v.Description, &roles, &members, &v.CreatedBy, &v.CreatedAt); err != nil {
		return nil, err
	}
	if err := unmarshal(roles, &v.RevealRoles); err != nil {
		return nil, err
	}
	return &v, unmarshal(members, &v.RevealMembers)
}

// CreateVault inserts v with its event.
func (s *Store) CreateVault(ctx context.Context, v *latchkey.Vault, ev latchkey.Event) error {
	roles, err := marshal(v.RevealRoles, "[]")
	if err != nil {
		return err
	}
	members, err := marshal(v.RevealMembers, "[]")
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Conn) error {
		_, err := tx.Exec(ctx, `INSERT INTO vaults (`+vaultColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
			v.ID, v.WorkspaceID, v.Name, v.Description, roles, members, v.CreatedBy, v.CreatedAt)
		switch {
		case s.isUnique(err, VaultName):
			return latchkey.Errorf(latchkey.ECONFLICT, "this workspace has a vault named %q", v.Name).WithDetail("field", "name")
		case s.isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		case err != nil:
			return s.wrap(err, "create vault")
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

// Vault returns one vault of a workspace.
func (s *Store) Vault(ctx context.Context, workspaceID, id string) (*latchkey.Vault, error) {
	v, err := scanVault(s.read.QueryRow(ctx, `SELECT `+vaultColumns+` FROM vaults WHERE id = ? AND workspace_id = ?`, id, workspaceID))
	if err != nil {
		return nil, s.notFound(err, "vault")
	}
	return v, nil
}

// Vaults lists a workspace's vaults by name.
func (s *Store) Vaults(ctx context.Context, workspaceID string) ([]*latchkey.Vault, error) {
	rows, err := s.read.Query(ctx, `SELECT `+vaultColumns+` FROM vaults WHERE workspace_id = ? ORDER BY name, id`, workspaceID)
	list, err := collect(rows, err, scanVault)
	return list, s.wrap(err, "vaults")
}

// DeleteVault removes a vault; its secrets go with it (ON DELETE CASCADE).
func (s *Store) DeleteVault(ctx context.Context, workspaceID, id string, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, `DELETE FROM vaults WHERE id = ? AND workspace_id = ?`, id, workspaceID)
		if err != nil {
			return s.wrap(err, "delete vault")
		}
		if n == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "vault not found")
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

// secretSelect reads a secret with its key's revocation, derived at read
// time so that it is never stale.
const secretSelect = `SELECT v.id, v.workspace_id, v.vault_id, v.name, COALESCE(v.key_id, ''),
	CASE WHEN k.revoked_at IS NULL THEN 0 ELSE 1 END, v.created_by, v.created_at, v.updated_at,
	v.ciphertext, v.wrapped_key, v.keeper_id
	FROM vault_secrets v LEFT JOIN keys k ON k.id = v.key_id `

func scanSecret(row Row) (*latchkey.VaultSecret, error) {
	var sec latchkey.VaultSecret
	var revoked int
	if err := row.Scan(&sec.ID, &sec.WorkspaceID, &sec.VaultID, &sec.Name, &sec.KeyID, &revoked, &sec.CreatedBy,
		&sec.CreatedAt, &sec.UpdatedAt, &sec.Sealed.Ciphertext, &sec.Sealed.WrappedKey, &sec.Sealed.KeeperID); err != nil {
		return nil, err
	}
	sec.KeyRevoked = revoked != 0
	return &sec, nil
}

// CreateSecret inserts a sealed secret, checking that its vault and key
// are the workspace's.
func (s *Store) CreateSecret(ctx context.Context, sec *latchkey.VaultSecret, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		var one int
		if err := tx.QueryRow(ctx, `SELECT 1 FROM vaults WHERE id = ? AND workspace_id = ?`+s.lock("FOR KEY SHARE"),
			sec.VaultID, sec.WorkspaceID).Scan(&one); err != nil {
			return s.notFound(err, "vault")
		}
		var keyID *string
		if sec.KeyID != "" {
			if err := tx.QueryRow(ctx, `SELECT 1 FROM keys WHERE id = ? AND workspace_id = ?`+s.lock("FOR KEY SHARE"),
				sec.KeyID, sec.WorkspaceID).Scan(&one); err != nil {
				return s.notFound(err, "key")
			}
			keyID = &sec.KeyID
		}
		_, err := tx.Exec(ctx, `INSERT INTO vault_secrets (id, workspace_id, vault_id, name, key_id, ciphertext,
			wrapped_key, keeper_id, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			sec.ID, sec.WorkspaceID, sec.VaultID, sec.Name, keyID, sec.Sealed.Ciphertext, sec.Sealed.WrappedKey,
			sec.Sealed.KeeperID, sec.CreatedBy, sec.CreatedAt, sec.UpdatedAt)
		switch {
		case s.isUnique(err, VaultSecretName):
			return latchkey.Errorf(latchkey.ECONFLICT, "this vault has a secret named %q", sec.Name).WithDetail("field", "name")
		case s.isUnique(err, VaultSecretKey):
			return latchkey.Errorf(latchkey.ECONFLICT, "this key's secret is already in a vault").WithDetail("field", "key_id")
		case s.isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "vault or key not found")
		case err != nil:
			return s.wrap(err, "create secret")
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

// VaultSecret returns one secret of a vault.
func (s *Store) VaultSecret(ctx context.Context, workspaceID, vaultID, id string) (*latchkey.VaultSecret, error) {
	sec, err := scanSecret(s.read.QueryRow(ctx, secretSelect+`WHERE v.id = ? AND v.vault_id = ? AND v.workspace_id = ?`,
		id, vaultID, workspaceID))
	if err != nil {
		return nil, s.notFound(err, "secret")
	}
	return sec, nil
}

// VaultSecrets lists a vault's secrets by name.
func (s *Store) VaultSecrets(ctx context.Context, workspaceID, vaultID string) ([]*latchkey.VaultSecret, error) {
	rows, err := s.read.Query(ctx, secretSelect+`WHERE v.vault_id = ? AND v.workspace_id = ? ORDER BY v.name, v.id`,
		vaultID, workspaceID)
	list, err := collect(rows, err, scanSecret)
	return list, s.wrap(err, "secrets")
}

// KeySecret returns the secret saved from a key.
func (s *Store) KeySecret(ctx context.Context, workspaceID, keyID string) (*latchkey.VaultSecret, error) {
	sec, err := scanSecret(s.read.QueryRow(ctx, secretSelect+`WHERE v.key_id = ? AND v.workspace_id = ?`, keyID, workspaceID))
	if err != nil {
		return nil, s.notFound(err, "secret")
	}
	return sec, nil
}

// ReplaceSecret stores a new sealed value with its event.
func (s *Store) ReplaceSecret(ctx context.Context, workspaceID, id string, sealed latchkey.Sealed, at time.Time, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, `UPDATE vault_secrets SET ciphertext = ?, wrapped_key = ?, keeper_id = ?, updated_at = ?
			WHERE id = ? AND workspace_id = ?`, sealed.Ciphertext, sealed.WrappedKey, sealed.KeeperID, at, id, workspaceID)
		if err != nil {
			return s.wrap(err, "replace secret")
		}
		if n == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "secret not found")
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

// DeleteSecret removes a secret with its event.
func (s *Store) DeleteSecret(ctx context.Context, workspaceID, vaultID, id string, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, `DELETE FROM vault_secrets WHERE id = ? AND vault_id = ? AND workspace_id = ?`, id, vaultID, workspaceID)
		if err != nil {
			return s.wrap(err, "delete secret")
		}
		if n == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "secret not found")
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

// SecretsNotWrappedBy lists secrets whose data key another keeper wraps.
func (s *Store) SecretsNotWrappedBy(ctx context.Context, keeperID string, limit int) ([]latchkey.SealedRef, error) {
	rows, err := s.read.Query(ctx, `SELECT id, workspace_id, vault_id, ciphertext, wrapped_key, keeper_id
		FROM vault_secrets WHERE keeper_id <> ? ORDER BY id LIMIT ?`, keeperID, pageSize(limit))
	list, err := collect(rows, err, func(row Row) (latchkey.SealedRef, error) {
		var r latchkey.SealedRef
		err := row.Scan(&r.ID, &r.WorkspaceID, &r.VaultID, &r.Sealed.Ciphertext, &r.Sealed.WrappedKey, &r.Sealed.KeeperID)
		return r, err
	})
	return list, s.wrap(err, "secrets to rewrap")
}

// RewrapSecret swaps a secret's wrapped data key when the row still holds
// prev: one statement, so its own short transaction, and a value replaced
// since it was read (a key's reset) is left alone.
func (s *Store) RewrapSecret(ctx context.Context, id string, prev, next latchkey.Sealed) (bool, error) {
	n, err := s.write.Exec(ctx, `UPDATE vault_secrets SET wrapped_key = ?, keeper_id = ?
		WHERE id = ? AND keeper_id = ? AND wrapped_key = ? AND ciphertext = ?`,
		next.WrappedKey, next.KeeperID, id, prev.KeeperID, prev.WrappedKey, prev.Ciphertext)
	if err != nil {
		return false, s.wrap(err, "rewrap secret")
	}
	return n == 1, nil
}

// VaultKeepers lists the recorded keepers, latest activated first.
func (s *Store) VaultKeepers(ctx context.Context) ([]latchkey.VaultKeeper, error) {
	rows, err := s.read.Query(ctx, `SELECT id, url, activated_at FROM vault_keepers ORDER BY activated_at DESC, id`)
	list, err := collect(rows, err, func(row Row) (latchkey.VaultKeeper, error) {
		var k latchkey.VaultKeeper
		err := row.Scan(&k.ID, &k.URL, &k.ActivatedAt)
		return k, err
	})
	return list, s.wrap(err, "vault keepers")
}

// ActivateVaultKeeper records k as the current keeper.
func (s *Store) ActivateVaultKeeper(ctx context.Context, k latchkey.VaultKeeper) error {
	_, err := s.write.Exec(ctx, `INSERT INTO vault_keepers (id, url, activated_at) VALUES (?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET url = excluded.url, activated_at = excluded.activated_at`, k.ID, k.URL, k.ActivatedAt)
	return s.wrap(err, "activate vault keeper")
}
