package sqlstore

import (
	"context"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

const passkeyColumns = `id, user_id, credential_id, public_key, sign_count, transports, aaguid, flags, attestation, name, created_at, last_used_at`

func scanPasskey(r Row) (latchkey.Passkey, error) {
	var p latchkey.Passkey
	var count int64
	var flags int
	var transports string
	err := r.Scan(&p.ID, &p.UserID, &p.CredentialID, &p.PublicKey, &count, &transports, &p.AAGUID, &flags, &p.Attestation, &p.Name, &p.CreatedAt, &p.LastUsedAt)
	p.SignCount, p.Flags = uint32(count), byte(flags)
	if transports != "" {
		p.Transports = strings.Split(transports, ",")
	}
	return p, err
}

// Passkeys lists the user's passkeys, oldest first.
func (s *Store) Passkeys(ctx context.Context, userID string) ([]latchkey.Passkey, error) {
	rows, err := s.read.Query(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE user_id = ? ORDER BY created_at, id`, userID)
	list, err := collect(rows, err, scanPasskey)
	return list, s.wrap(err, "passkeys")
}

// PasskeyByCredential returns the passkey with a credential id.
func (s *Store) PasskeyByCredential(ctx context.Context, credentialID []byte) (*latchkey.Passkey, error) {
	p, err := scanPasskey(s.read.QueryRow(ctx, `SELECT `+passkeyColumns+` FROM passkeys WHERE credential_id = ?`, credentialID))
	if err != nil {
		return nil, s.notFound(err, "passkey")
	}
	return &p, nil
}

// CreatePasskey stores a passkey with its events.
func (s *Store) CreatePasskey(ctx context.Context, p *latchkey.Passkey, evs []latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		_, err := tx.Exec(ctx, `INSERT INTO passkeys (`+passkeyColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			p.ID, p.UserID, p.CredentialID, p.PublicKey, int64(p.SignCount), strings.Join(p.Transports, ","), p.AAGUID,
			int(p.Flags), p.Attestation, p.Name, p.CreatedAt, p.LastUsedAt)
		switch {
		case s.isUnique(err, AnyConstraint):
			return latchkey.Errorf(latchkey.ECONFLICT, "this passkey is registered already")
		case s.isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "user not found")
		case err != nil:
			return s.wrap(err, "create passkey")
		}
		return s.insertEvents(ctx, tx, "", evs)
	})
}

// RenamePasskey renames one of the user's passkeys.
func (s *Store) RenamePasskey(ctx context.Context, userID, id, name string) error {
	n, err := s.write.Exec(ctx, `UPDATE passkeys SET name = ? WHERE id = ? AND user_id = ?`, name, id, userID)
	if err != nil {
		return s.wrap(err, "rename passkey")
	}
	if n == 0 {
		return latchkey.Errorf(latchkey.ENOTFOUND, "passkey not found")
	}
	return nil
}

// DeletePasskey removes one of the user's passkeys with its events.
func (s *Store) DeletePasskey(ctx context.Context, userID, id string, evs []latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, `DELETE FROM passkeys WHERE id = ? AND user_id = ?`, id, userID)
		if err != nil {
			return s.wrap(err, "remove passkey")
		}
		if n == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "passkey not found")
		}
		return s.insertEvents(ctx, tx, "", evs)
	})
}

// UsePasskey moves the signature counter forward, in one statement, so of
// two assertions with one counter value one fails.
func (s *Store) UsePasskey(ctx context.Context, id string, count uint32, at time.Time) error {
	n, err := s.write.Exec(ctx, `UPDATE passkeys SET sign_count = ?1, last_used_at = ?2
		WHERE id = ?3 AND (sign_count < ?1 OR (sign_count = 0 AND ?1 = 0))`, int64(count), at, id)
	if err != nil {
		return s.wrap(err, "use passkey")
	}
	if n == 1 {
		return nil
	}
	var one int
	if err := s.write.QueryRow(ctx, `SELECT 1 FROM passkeys WHERE id = ?`, id).Scan(&one); err != nil {
		return s.notFound(err, "passkey")
	}
	return latchkey.Errorf(latchkey.ECONFLICT, "the passkey's signature counter did not move forward")
}

// PutPasskeyCeremony stores a ceremony in place of one with its hash, and
// sweeps ceremonies expired an hour ago.
func (s *Store) PutPasskeyCeremony(ctx context.Context, c *latchkey.PasskeyCeremony) error {
	return s.inTx(ctx, func(tx Conn) error {
		if _, err := tx.Exec(ctx, `DELETE FROM passkey_ceremonies WHERE hash = ? OR expires_at < ?`, c.Hash[:], c.ExpiresAt.Add(-time.Hour)); err != nil {
			return s.wrap(err, "store passkey ceremony")
		}
		_, err := tx.Exec(ctx, `INSERT INTO passkey_ceremonies (hash, kind, user_id, data, expires_at) VALUES (?, ?, ?, ?, ?)`,
			c.Hash[:], c.Kind, c.UserID, c.Data, c.ExpiresAt)
		if s.isUnique(err, AnyConstraint) {
			return latchkey.Errorf(latchkey.ECONFLICT, "a passkey ceremony is starting already")
		}
		return s.wrap(err, "store passkey ceremony")
	})
}

// TakePasskeyCeremony deletes and returns an unexpired ceremony: a
// challenge is answered once.
func (s *Store) TakePasskeyCeremony(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.PasskeyCeremony, error) {
	c := latchkey.PasskeyCeremony{Hash: hash}
	err := s.write.QueryRow(ctx, `DELETE FROM passkey_ceremonies WHERE hash = ?
		RETURNING kind, user_id, data, expires_at`, hash[:]).Scan(&c.Kind, &c.UserID, &c.Data, &c.ExpiresAt)
	if err != nil {
		return nil, s.notFound(err, "passkey ceremony")
	}
	if !c.ExpiresAt.After(now) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "passkey ceremony not found")
	}
	return &c, nil
}
