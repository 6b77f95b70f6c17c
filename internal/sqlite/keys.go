package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey"
)

// keySelect derives OwnerActive in the same query: a personal key works only
// while its owner has an active membership of the key's workspace.
const keySelect = `SELECT k.id, k.workspace_id, k.name, k.description, k.type, k.environment, k.owner,
	k.scopes, k.settings, k.callback_url, k.rate_limit, k.rate_period, k.created_by, k.created_at,
	k.expires_at, k.last_used_at, k.revoked_at, k.revoked_by, k.start,
	k.hash, k.previous_hash, k.previous_expires_at,
	CASE WHEN k.owner = 'workspace' THEN TRUE ELSE COALESCE(m.active, FALSE) END
	FROM keys k LEFT JOIN members m ON m.workspace_id = k.workspace_id AND m.user_id = k.owner `

// keyColumns are the columns a write sets besides id and workspace_id, in
// the order of keyValues.
var keyColumns = []string{"name", "name_lower", "description", "type", "environment", "owner",
	"scopes", "settings", "callback_url", "rate_limit", "rate_period", "created_by", "created_at",
	"expires_at", "last_used_at", "revoked_at", "revoked_by", "start",
	"hash", "previous_hash", "previous_expires_at"}

func keyValues(k *latchkey.Key) ([]any, error) {
	scopes, err := marshal(k.Scopes, "[]")
	if err != nil {
		return nil, err
	}
	settings, err := marshal(k.Settings, "{}")
	if err != nil {
		return nil, err
	}
	var limit, period sql.NullInt64
	if k.RateLimit != nil {
		limit = sql.NullInt64{Int64: int64(k.RateLimit.Limit), Valid: true}
		period = sql.NullInt64{Int64: int64(k.RateLimit.Period), Valid: true}
	}
	var prev any // nil binds NULL; an empty []byte might bind an empty blob
	if k.PreviousHash != nil {
		prev = k.PreviousHash[:]
	}
	return []any{k.Name, strings.ToLower(k.Name), k.Description, k.Type, string(k.Environment), k.Owner,
		scopes, settings, k.CallbackURL, limit, period, k.CreatedBy, micros(k.CreatedAt),
		nullMicros(k.ExpiresAt), nullMicros(k.LastUsedAt), nullMicros(k.RevokedAt), k.RevokedBy, k.Start,
		k.Hash[:], prev, nullMicros(k.PreviousExpiresAt)}, nil
}

func scanKey(row interface{ Scan(...any) error }) (*latchkey.Key, error) {
	var k latchkey.Key
	var scopes, settings string
	var limit, period sql.NullInt64
	var created int64
	var expires, lastUsed, revoked, prevExpires sql.NullInt64
	var hash, prev []byte
	err := row.Scan(&k.ID, &k.WorkspaceID, &k.Name, &k.Description, &k.Type, &k.Environment, &k.Owner,
		&scopes, &settings, &k.CallbackURL, &limit, &period, &k.CreatedBy, &created,
		&expires, &lastUsed, &revoked, &k.RevokedBy, &k.Start,
		&hash, &prev, &prevExpires, &k.OwnerActive)
	if err != nil {
		return nil, err
	}
	if err := unmarshal(scopes, &k.Scopes); err != nil {
		return nil, err
	}
	if err := unmarshal(settings, &k.Settings); err != nil {
		return nil, err
	}
	if limit.Valid {
		k.RateLimit = &latchkey.RateLimit{Limit: int(limit.Int64), Period: latchkey.Duration(period.Int64)}
	}
	k.CreatedAt = fromMicros(created)
	k.ExpiresAt = fromNullMicros(expires)
	k.LastUsedAt = fromNullMicros(lastUsed)
	k.RevokedAt = fromNullMicros(revoked)
	k.PreviousExpiresAt = fromNullMicros(prevExpires)
	if len(hash) != 32 || (prev != nil && len(prev) != 32) {
		return nil, fmt.Errorf("sqlite: key %s has a malformed hash", k.ID)
	}
	k.Hash = [32]byte(hash)
	if prev != nil {
		p := [32]byte(prev)
		k.PreviousHash = &p
	}
	return &k, nil
}

// CreateKey inserts k and ev; ECONFLICT if its id or one of its hashes
// exists, ENOTFOUND if its workspace does not.
func (db *DB) CreateKey(ctx context.Context, k *latchkey.Key, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertKey(ctx, tx, k); err != nil {
			return err
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = k.WorkspaceID
		}
		return insertEvent(ctx, tx, &ev)
	})
}

var insertKeySQL = `INSERT INTO keys (id, workspace_id, ` + strings.Join(keyColumns, ", ") +
	`) VALUES (?, ?` + strings.Repeat(", ?", len(keyColumns)) + `)`

func insertKey(ctx context.Context, tx *sql.Tx, k *latchkey.Key) error {
	vals, err := keyValues(k)
	if err != nil {
		return err
	}
	_, err = tx.ExecContext(ctx, insertKeySQL, append([]any{k.ID, k.WorkspaceID}, vals...)...)
	return keyWriteError(err, k.ID)
}

func keyWriteError(err error, id string) error {
	switch {
	case err == nil:
		return nil
	case isUnique(err, "keys.id"):
		return latchkey.Errorf(latchkey.ECONFLICT, "key %s already exists", id)
	case isUnique(err, ""):
		return latchkey.Errorf(latchkey.ECONFLICT, "a key with this secret already exists")
	case isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	}
	return fmt.Errorf("sqlite: write key %s: %w", id, err)
}

// Key returns a key of the workspace; ENOTFOUND if absent or in another workspace.
func (db *DB) Key(ctx context.Context, workspaceID, id string) (*latchkey.Key, error) {
	k, err := scanKey(db.read.QueryRowContext(ctx, keySelect+`WHERE k.id = ? AND k.workspace_id = ?`, id, workspaceID))
	if err != nil {
		return nil, notFound(err, "key")
	}
	return k, nil
}

// KeyByHash finds the key whose current or previous secret hashes to h;
// ENOTFOUND if none. It does not check PreviousExpiresAt: the store has no
// clock, so the caller compares h with k.Hash and decides whether a
// previous secret is still within its grace period.
func (db *DB) KeyByHash(ctx context.Context, h [32]byte) (*latchkey.Key, error) {
	// Two indexed lookups, not one OR, so that SQLite uses both unique
	// indexes whatever its planner thinks of the OR.
	k, err := scanKey(db.byHash.QueryRowContext(ctx, h[:]))
	if errors.Is(err, sql.ErrNoRows) {
		k, err = scanKey(db.byPreviousHash.QueryRowContext(ctx, h[:]))
	}
	if err != nil {
		return nil, notFound(err, "key")
	}
	return k, nil
}

// UpdateKey loads the key, applies fn and stores the result with fn's event
// in one write transaction, so concurrent updates cannot be lost. fn's
// error is returned unchanged and nothing is written; a nil event means no
// change, and the key as stored is returned. The key's id and workspace
// cannot be changed by fn. fn must not call the store's write methods: the
// write connection is held.
func (db *DB) UpdateKey(ctx context.Context, workspaceID, id string, fn func(*latchkey.Key) (*latchkey.Event, error)) (*latchkey.Key, error) {
	var out *latchkey.Key
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		load := func() (*latchkey.Key, error) {
			k, err := scanKey(tx.QueryRowContext(ctx, keySelect+`WHERE k.id = ? AND k.workspace_id = ?`, id, workspaceID))
			if err != nil {
				return nil, notFound(err, "key")
			}
			return k, nil
		}
		k, err := load()
		if err != nil {
			return err
		}
		ev, err := fn(k)
		if err != nil {
			return err
		}
		if ev == nil {
			// fn may have changed k before deciding nothing changed.
			out, err = load()
			return err
		}
		k.ID, k.WorkspaceID = id, workspaceID
		vals, err := keyValues(k)
		if err != nil {
			return err
		}
		q := `UPDATE keys SET ` + strings.Join(keyColumns, " = ?, ") + ` = ? WHERE id = ? AND workspace_id = ?`
		_, err = tx.ExecContext(ctx, q, append(vals, id, workspaceID)...)
		if err := keyWriteError(err, id); err != nil {
			return err
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = workspaceID
		}
		if err := insertEvent(ctx, tx, ev); err != nil {
			return err
		}
		// Reload so that the answer is exactly what is stored (times
		// truncated to microseconds, OwnerActive derived for a new owner).
		if out, err = load(); err != nil {
			return err
		}
		return enqueueWebhook(ctx, tx, ev, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteKey removes the key and records ev; its events stay. ENOTFOUND if
// the key is absent or in another workspace.
func (db *DB) DeleteKey(ctx context.Context, workspaceID, id string, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		// Loaded first: the key.deleted webhook shows the key as it was.
		k, err := scanKey(tx.QueryRowContext(ctx, keySelect+`WHERE k.id = ? AND k.workspace_id = ?`, id, workspaceID))
		if err != nil {
			return notFound(err, "key")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM keys WHERE id = ? AND workspace_id = ?`, id, workspaceID); err != nil {
			return fmt.Errorf("sqlite: delete key: %w", err)
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = workspaceID
		}
		if err := insertEvent(ctx, tx, &ev); err != nil {
			return err
		}
		return enqueueWebhook(ctx, tx, &ev, k)
	})
}

// CountKeys counts a workspace's keys of owner ("" for every owner),
// revoked and expired ones included.
func (db *DB) CountKeys(ctx context.Context, workspaceID, owner string) (int, error) {
	q, args := `SELECT COUNT(*) FROM keys WHERE workspace_id = ?`, []any{workspaceID}
	if owner != "" {
		q, args = q+` AND owner = ?`, append(args, owner)
	}
	var n int
	if err := db.read.QueryRowContext(ctx, q, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("sqlite: count keys: %w", err)
	}
	return n, nil
}
