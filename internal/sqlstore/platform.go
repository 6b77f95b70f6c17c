package sqlstore

import (
	"context"
	"errors"
	"time"

	"github.com/latchkey/latchkey"
)

const platformKeySelect = `SELECT id, name, product, scopes, max_role, start, hash, created_by, created_at,
	revoked_at, revoked_by FROM platform_keys `

func scanPlatformKey(row Row) (*latchkey.PlatformKey, error) {
	var k latchkey.PlatformKey
	var scopes, hash []byte
	if err := row.Scan(&k.ID, &k.Name, &k.Product, &scopes, &k.MaxRole, &k.Start, &hash, &k.CreatedBy, &k.CreatedAt,
		&k.RevokedAt, &k.RevokedBy); err != nil {
		return nil, err
	}
	copy(k.Hash[:], hash)
	if err := unmarshal(scopes, &k.Scopes); err != nil {
		return nil, err
	}
	return &k, nil
}

// CreatePlatformKey inserts k with ev; ECONFLICT if its id or hash exists.
func (s *Store) CreatePlatformKey(ctx context.Context, k *latchkey.PlatformKey, ev latchkey.Event) error {
	scopes, err := marshal(k.Scopes, "[]")
	if err != nil {
		return err
	}
	return s.inTx(ctx, func(tx Conn) error {
		_, err := tx.Exec(ctx, `INSERT INTO platform_keys (id, name, product, scopes, max_role, start, hash, created_by, created_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			k.ID, k.Name, k.Product, scopes, string(k.MaxRole), k.Start, k.Hash[:], k.CreatedBy, k.CreatedAt)
		if s.isUnique(err, AnyConstraint) {
			return latchkey.Errorf(latchkey.ECONFLICT, "platform key already exists")
		}
		if err != nil {
			return s.wrap(err, "create platform key")
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

// PlatformKeys lists every platform key, oldest first.
func (s *Store) PlatformKeys(ctx context.Context) ([]*latchkey.PlatformKey, error) {
	rows, err := s.read.Query(ctx, platformKeySelect+`ORDER BY id`)
	list, err := collect(rows, err, scanPlatformKey)
	return list, s.wrap(err, "platform keys")
}

// PlatformKeyByHash finds a platform key by the SHA-256 of its secret.
func (s *Store) PlatformKeyByHash(ctx context.Context, h [32]byte) (*latchkey.PlatformKey, error) {
	k, err := scanPlatformKey(s.read.QueryRow(ctx, platformKeySelect+`WHERE hash = ?`, h[:]))
	if err != nil {
		return nil, s.notFound(err, "platform key")
	}
	return k, nil
}

// RevokePlatformKey revokes a platform key once; see latchkey.PlatformStore.
func (s *Store) RevokePlatformKey(ctx context.Context, id string, at time.Time, by string, ev latchkey.Event) (*latchkey.PlatformKey, error) {
	var out *latchkey.PlatformKey
	err := s.inTx(ctx, func(tx Conn) error {
		k, err := scanPlatformKey(tx.QueryRow(ctx, platformKeySelect+`WHERE id = ?`+s.lock("FOR UPDATE"), id))
		if err != nil {
			return s.notFound(err, "platform key")
		}
		out = k
		if k.RevokedAt != nil {
			return nil
		}
		if _, err := tx.Exec(ctx, `UPDATE platform_keys SET revoked_at = ?, revoked_by = ? WHERE id = ?`, at, by, id); err != nil {
			return s.wrap(err, "revoke platform key")
		}
		k.RevokedAt, k.RevokedBy = &at, by
		return s.insertEvent(ctx, tx, &ev)
	})
	return out, err
}

// errProvisioned reports, inside ProvisionWorkspace's transaction, that a
// concurrent call bound the external id first.
var errProvisioned = errors.New("provisioned concurrently")

// ProvisionWorkspace inserts a workspace bound to (product, externalID)
// unless one is; see latchkey.PlatformStore. Two calls at once with one
// external id both find none, and the unique (product, external_id) lets
// one insert: the other rolls back and returns the winner's.
func (s *Store) ProvisionWorkspace(ctx context.Context, ws *latchkey.Workspace, product, externalID, keyID string, ev latchkey.Event) (*latchkey.ProvisionedWorkspace, bool, error) {
	if got, err := s.ProvisionedWorkspaces(ctx, product, externalID); err != nil || len(got) > 0 {
		if err != nil {
			return nil, false, err
		}
		return got[0], false, nil
	}
	settings, err := marshal(ws.Settings, "{}")
	if err != nil {
		return nil, false, err
	}
	err = s.inTx(ctx, func(tx Conn) error {
		_, err := tx.Exec(ctx, `INSERT INTO workspaces (id, name, settings, created_at) VALUES (?, ?, ?, ?)`,
			ws.ID, ws.Name, settings, ws.CreatedAt)
		if s.isUnique(err, AnyConstraint) {
			return latchkey.Errorf(latchkey.ECONFLICT, "workspace %s already exists", ws.ID)
		}
		if err != nil {
			return s.wrap(err, "insert workspace")
		}
		_, err = tx.Exec(ctx, `INSERT INTO platform_workspaces (workspace_id, product, external_id, created_by) VALUES (?, ?, ?, ?)`,
			ws.ID, product, externalID, keyID)
		if s.isUnique(err, AnyConstraint) {
			return errProvisioned
		}
		if err != nil {
			return s.wrap(err, "bind workspace")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = ws.ID
		}
		return s.insertEvent(ctx, tx, &ev)
	})
	if errors.Is(err, errProvisioned) {
		got, err := s.ProvisionedWorkspaces(ctx, product, externalID)
		if err != nil || len(got) == 0 {
			return nil, false, s.wrap(err, "provisioned workspace")
		}
		return got[0], false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return &latchkey.ProvisionedWorkspace{ID: ws.ID, Name: ws.Name, ExternalID: externalID, CreatedAt: ws.CreatedAt}, true, nil
}

// ProvisionedWorkspaces lists a product's workspaces, or its one with externalID.
func (s *Store) ProvisionedWorkspaces(ctx context.Context, product, externalID string) ([]*latchkey.ProvisionedWorkspace, error) {
	q := `SELECT w.id, w.name, p.external_id, w.created_at FROM platform_workspaces p
		JOIN workspaces w ON w.id = p.workspace_id WHERE p.product = ?`
	args := []any{product}
	if externalID != "" {
		q += ` AND p.external_id = ?`
		args = append(args, externalID)
	}
	rows, err := s.read.Query(ctx, q+` ORDER BY w.created_at, w.id`, args...)
	list, err := collect(rows, err, func(r Row) (*latchkey.ProvisionedWorkspace, error) {
		var w latchkey.ProvisionedWorkspace
		return &w, r.Scan(&w.ID, &w.Name, &w.ExternalID, &w.CreatedAt)
	})
	return list, s.wrap(err, "provisioned workspaces")
}

// WorkspaceProduct returns the product that provisioned a workspace.
func (s *Store) WorkspaceProduct(ctx context.Context, workspaceID string) (string, error) {
	var product string
	err := s.read.QueryRow(ctx, `SELECT product FROM platform_workspaces WHERE workspace_id = ?`, workspaceID).Scan(&product)
	if err != nil {
		return "", s.notFound(err, "provisioned workspace")
	}
	return product, nil
}
