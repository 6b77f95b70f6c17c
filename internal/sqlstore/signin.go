package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey"
)

// CreateSignInSession stores a session and how it signed in, in one
// transaction; CreateSession's errors.
func (s *Store) CreateSignInSession(ctx context.Context, ss *latchkey.Session, in latchkey.SignIn) error {
	return s.inTx(ctx, func(tx Conn) error { return s.insertSignInSession(ctx, tx, ss, in) })
}

func (s *Store) insertSignInSession(ctx context.Context, tx Conn, ss *latchkey.Session, in latchkey.SignIn) error {
	_, err := tx.Exec(ctx, `INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		ss.Hash[:], ss.UserID, ss.CreatedAt, ss.ExpiresAt)
	switch {
	case s.isUnique(err, AnyConstraint):
		return latchkey.Errorf(latchkey.ECONFLICT, "session already exists")
	case s.isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "user not found")
	case err != nil:
		return s.wrap(err, "create session")
	}
	_, err = tx.Exec(ctx, `INSERT INTO session_signins (hash, method, pending, sso_workspace_id) VALUES (?, ?, ?, ?)`,
		ss.Hash[:], in.Method, in.Pending, in.SSOWorkspaceID)
	return s.wrap(err, "create session")
}

// SignInSession returns an unexpired session and how it signed in; a
// session stored without that signed in with a password and is complete.
func (s *Store) SignInSession(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.Session, *latchkey.SignIn, error) {
	ss := latchkey.Session{Hash: hash}
	var method, pending, ws *string
	err := s.read.QueryRow(ctx, `SELECT s.user_id, s.created_at, s.expires_at, i.method, i.pending, i.sso_workspace_id
		FROM sessions s LEFT JOIN session_signins i ON i.hash = s.hash
		WHERE s.hash = ? AND s.expires_at > ?`, hash[:], now).
		Scan(&ss.UserID, &ss.CreatedAt, &ss.ExpiresAt, &method, &pending, &ws)
	if err != nil {
		return nil, nil, s.notFound(err, "session")
	}
	in := &latchkey.SignIn{Method: latchkey.SignInPassword}
	if method != nil {
		in.Method, in.Pending, in.SSOWorkspaceID = *method, *pending, *ws
	}
	return &ss, in, nil
}

// ReplaceSession ends old and opens ss in one transaction; ENOTFOUND if
// old is gone (finished already, logged out, expired and swept).
func (s *Store) ReplaceSession(ctx context.Context, old [32]byte, ss *latchkey.Session, in latchkey.SignIn, evs []latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, `DELETE FROM sessions WHERE hash = ?`, old[:])
		if err != nil {
			return s.wrap(err, "replace session")
		}
		if n == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "session not found")
		}
		if err := s.insertSignInSession(ctx, tx, ss, in); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, "", evs)
	})
}

// TOTP returns the user's authenticator secret; ENOTFOUND if none.
func (s *Store) TOTP(ctx context.Context, userID string) (*latchkey.TOTP, error) {
	t := latchkey.TOTP{UserID: userID}
	err := s.read.QueryRow(ctx, `SELECT sealed_secret, created_at, confirmed_at, last_step FROM mfa_totp WHERE user_id = ?`, userID).
		Scan(&t.SealedSecret, &t.CreatedAt, &t.ConfirmedAt, &t.LastStep)
	if err != nil {
		return nil, s.notFound(err, "authenticator")
	}
	return &t, nil
}

// StartTOTP stores an unconfirmed secret in place of an unconfirmed one;
// ECONFLICT if a confirmed one exists, ENOTFOUND if the user does not.
func (s *Store) StartTOTP(ctx context.Context, t *latchkey.TOTP) error {
	return s.inTx(ctx, func(tx Conn) error {
		var confirmed *time.Time
		err := tx.QueryRow(ctx, `SELECT confirmed_at FROM mfa_totp WHERE user_id = ?`+s.lock("FOR UPDATE"), t.UserID).Scan(&confirmed)
		switch {
		case err == nil && confirmed != nil:
			return latchkey.Errorf(latchkey.ECONFLICT, "an authenticator app is set up already: remove it first")
		case err == nil:
			if _, err := tx.Exec(ctx, `DELETE FROM mfa_totp WHERE user_id = ?`, t.UserID); err != nil {
				return s.wrap(err, "start authenticator")
			}
		case errors.Is(err, sql.ErrNoRows):
		default:
			return s.wrap(err, "start authenticator")
		}
		_, err = tx.Exec(ctx, `INSERT INTO mfa_totp (user_id, sealed_secret, created_at, last_step) VALUES (?, ?, ?, 0)`,
			t.UserID, t.SealedSecret, t.CreatedAt)
		if s.isForeignKey(err) {
			return latchkey.Errorf(latchkey.ENOTFOUND, "user not found")
		}
		return s.wrap(err, "start authenticator")
	})
}

// ConfirmTOTP confirms the secret at step and stores the recovery codes.
func (s *Store) ConfirmTOTP(ctx context.Context, userID string, at time.Time, step int64, codes [][32]byte, evs []latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		var confirmed *time.Time
		err := tx.QueryRow(ctx, `SELECT confirmed_at FROM mfa_totp WHERE user_id = ?`+s.lock("FOR UPDATE"), userID).Scan(&confirmed)
		switch {
		case err != nil:
			return s.notFound(err, "authenticator")
		case confirmed != nil:
			return latchkey.Errorf(latchkey.ECONFLICT, "the authenticator app is confirmed already")
		}
		if _, err := tx.Exec(ctx, `UPDATE mfa_totp SET confirmed_at = ?, last_step = ? WHERE user_id = ?`, at, step, userID); err != nil {
			return s.wrap(err, "confirm authenticator")
		}
		if err := s.putRecoveryCodes(ctx, tx, userID, codes); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, "", evs)
	})
}

// UseTOTPStep records step as used, once.
func (s *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	n, err := s.write.Exec(ctx, `UPDATE mfa_totp SET last_step = ? WHERE user_id = ? AND confirmed_at IS NOT NULL AND last_step < ?`,
		step, userID, step)
	if err != nil {
		return s.wrap(err, "use authenticator code")
	}
	if n == 1 {
		return nil
	}
	if t, err := s.TOTP(ctx, userID); err != nil {
		return err
	} else if t.ConfirmedAt == nil {
		return latchkey.Errorf(latchkey.ENOTFOUND, "authenticator not found")
	}
	return latchkey.Errorf(latchkey.ECONFLICT, "this code was used already; wait for the next one")
}

// DeleteTOTP removes the secret and the recovery codes.
func (s *Store) DeleteTOTP(ctx context.Context, userID string, evs []latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, `DELETE FROM mfa_totp WHERE user_id = ?`, userID)
		if err != nil {
			return s.wrap(err, "remove authenticator")
		}
		if n == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "authenticator not found")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = ?`, userID); err != nil {
			return s.wrap(err, "remove recovery codes")
		}
		return s.insertEvents(ctx, tx, "", evs)
	})
}

// RecoveryCodes lists the user's unused codes.
func (s *Store) RecoveryCodes(ctx context.Context, userID string) ([]latchkey.RecoveryCode, error) {
	rows, err := s.read.Query(ctx, `SELECT id, hash FROM mfa_recovery_codes WHERE user_id = ? AND used_at IS NULL ORDER BY id`, userID)
	list, err := collect(rows, err, func(r Row) (latchkey.RecoveryCode, error) {
		var c latchkey.RecoveryCode
		var h []byte
		err := r.Scan(&c.ID, &h)
		copy(c.Hash[:], h)
		return c, err
	})
	return list, s.wrap(err, "recovery codes")
}

// UseRecoveryCode marks one code used, once.
func (s *Store) UseRecoveryCode(ctx context.Context, userID string, id int64, at time.Time, evs []latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, `UPDATE mfa_recovery_codes SET used_at = ? WHERE id = ? AND user_id = ? AND used_at IS NULL`, at, id, userID)
		if err != nil {
			return s.wrap(err, "use recovery code")
		}
		if n == 0 {
			return latchkey.Errorf(latchkey.ECONFLICT, "this recovery code was used already")
		}
		return s.insertEvents(ctx, tx, "", evs)
	})
}

// ReplaceRecoveryCodes replaces the user's codes.
func (s *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, codes [][32]byte, at time.Time, evs []latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		if err := s.putRecoveryCodes(ctx, tx, userID, codes); err != nil {
			return err
		}
		return s.insertEvents(ctx, tx, "", evs)
	})
}

func (s *Store) putRecoveryCodes(ctx context.Context, tx Conn, userID string, codes [][32]byte) error {
	if _, err := tx.Exec(ctx, `DELETE FROM mfa_recovery_codes WHERE user_id = ?`, userID); err != nil {
		return s.wrap(err, "replace recovery codes")
	}
	for _, h := range codes {
		_, err := tx.Exec(ctx, `INSERT INTO mfa_recovery_codes (user_id, hash) VALUES (?, ?)`, userID, h[:])
		if s.isForeignKey(err) {
			return latchkey.Errorf(latchkey.ENOTFOUND, "user not found")
		}
		if err != nil {
			return s.wrap(err, "replace recovery codes")
		}
	}
	return nil
}
