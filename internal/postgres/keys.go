package postgres

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	var limit, period *int64
	if k.RateLimit != nil {
		l, p := int64(k.RateLimit.Limit), int64(k.RateLimit.Period)
		limit, period = &l, &p
	}
	var prev []byte // nil binds NULL
	if k.PreviousHash != nil {
		prev = k.PreviousHash[:]
	}
	return []any{k.Name, strings.ToLower(k.Name), k.Description, k.Type, string(k.Environment), k.Owner,
		scopes, settings, k.CallbackURL, limit, period, k.CreatedBy, k.CreatedAt,
		k.ExpiresAt, k.LastUsedAt, k.RevokedAt, k.RevokedBy, k.Start,
		k.Hash[:], prev, k.PreviousExpiresAt}, nil
}

func scanKey(row pgx.Row) (*latchkey.Key, error) {
	var k latchkey.Key
	var scopes, settings []byte
	var limit, period *int64
	var created time.Time
	var hash, prev []byte
	err := row.Scan(&k.ID, &k.WorkspaceID, &k.Name, &k.Description, &k.Type, &k.Environment, &k.Owner,
		&scopes, &settings, &k.CallbackURL, &limit, &period, &k.CreatedBy, &created,
		&k.ExpiresAt, &k.LastUsedAt, &k.RevokedAt, &k.RevokedBy, &k.Start,
		&hash, &prev, &k.PreviousExpiresAt, &k.OwnerActive)
	if err != nil {
		return nil, err
	}
	if err := unmarshal(scopes, &k.Scopes); err != nil {
		return nil, err
	}
	if err := unmarshal(settings, &k.Settings); err != nil {
		return nil, err
	}
	if limit != nil && period != nil {
		k.RateLimit = &latchkey.RateLimit{Limit: int(*limit), Period: latchkey.Duration(*period)}
	}
	k.CreatedAt = utc(created)
	k.ExpiresAt, k.LastUsedAt = utcPtr(k.ExpiresAt), utcPtr(k.LastUsedAt)
	k.RevokedAt, k.PreviousExpiresAt = utcPtr(k.RevokedAt), utcPtr(k.PreviousExpiresAt)
	if len(hash) != 32 || (prev != nil && len(prev) != 32) {
		return nil, fmt.Errorf("postgres: key %s has a malformed hash", k.ID)
	}
	k.Hash = [32]byte(hash)
	if prev != nil {
		p := [32]byte(prev)
		k.PreviousHash = &p
	}
	return &k, nil
}

var insertKeySQL = func() string {
	ph := make([]string, len(keyColumns)+2)
	for i := range ph {
		ph[i] = "$" + strconv.Itoa(i+1)
	}
	return `INSERT INTO keys (id, workspace_id, ` + strings.Join(keyColumns, ", ") +
		`) VALUES (` + strings.Join(ph, ", ") + `)`
}()

var updateKeySQL = func() string {
	set := make([]string, len(keyColumns))
	for i, c := range keyColumns {
		set[i] = c + " = $" + strconv.Itoa(i+1)
	}
	n := len(keyColumns)
	return `UPDATE keys SET ` + strings.Join(set, ", ") +
		` WHERE id = $` + strconv.Itoa(n+1) + ` AND workspace_id = $` + strconv.Itoa(n+2)
}()

// CreateKey inserts k and ev; ECONFLICT if its id or one of its hashes
// exists, ENOTFOUND if its workspace does not.
func (db *DB) CreateKey(ctx context.Context, k *latchkey.Key, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if err := insertKey(ctx, tx, k); err != nil {
			return err
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = k.WorkspaceID
		}
		return insertEvent(ctx, tx, &ev)
	})
}

func insertKey(ctx context.Context, tx pgx.Tx, k *latchkey.Key) error {
	vals, err := keyValues(k)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, insertKeySQL, append([]any{k.ID, k.WorkspaceID}, vals...)...)
	return keyWriteError(err, k.ID)
}

func keyWriteError(err error, id string) error {
	switch {
	case err == nil:
		return nil
	case isUnique(err, "keys_pkey"):
		return latchkey.Errorf(latchkey.ECONFLICT, "key %s already exists", id)
	case isUnique(err, ""):
		return latchkey.Errorf(latchkey.ECONFLICT, "a key with this secret already exists")
	case isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	}
	return wrap(err, "write key "+id)
}

// Key returns a key of the workspace; ENOTFOUND if absent or in another workspace.
func (db *DB) Key(ctx context.Context, workspaceID, id string) (*latchkey.Key, error) {
	k, err := scanKey(db.pool.QueryRow(ctx, keySelect+`WHERE k.id = $1 AND k.workspace_id = $2`, id, workspaceID))
	if err != nil {
		return nil, notFound(err, "key")
	}
	return k, nil
}

// KeyByHash finds the key whose current or previous secret hashes to h,
// preferring a current match; ENOTFOUND if none. It does not check
// PreviousExpiresAt: the store has no clock, so the caller compares h with
// k.Hash and decides whether a previous secret is still within its grace
// period.
func (db *DB) KeyByHash(ctx context.Context, h [32]byte) (*latchkey.Key, error) {
	// One round trip; the planner ORs the two unique indexes.
	k, err := scanKey(db.pool.QueryRow(ctx, keySelect+`WHERE k.hash = $1 OR k.previous_hash = $1
		ORDER BY k.hash = $1 DESC LIMIT 1`, h[:]))
	if err != nil {
		return nil, notFound(err, "key")
	}
	return k, nil
}

// UpdateKey loads the key with its row locked, applies fn and stores the
// result with fn's event in one transaction, so concurrent updates cannot
// be lost. fn's error is returned unchanged and nothing is written; a nil
// event means no change, and the key as stored is returned. The key's id
// and workspace cannot be changed by fn.
func (db *DB) UpdateKey(ctx context.Context, workspaceID, id string, fn func(*latchkey.Key) (*latchkey.Event, error)) (*latchkey.Key, error) {
	var out *latchkey.Key
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		load := func(lock string) (*latchkey.Key, error) {
			k, err := scanKey(tx.QueryRow(ctx, keySelect+`WHERE k.id = $1 AND k.workspace_id = $2 `+lock, id, workspaceID))
			if err != nil {
				return nil, notFound(err, "key")
			}
			return k, nil
		}
		// NO KEY UPDATE: nothing references keys, but it is the lock an
		// UPDATE takes anyway. OF k: the member side of the join may be NULL.
		k, err := load("FOR NO KEY UPDATE OF k")
		if err != nil {
			return err
		}
		ev, err := fn(k)
		if err != nil {
			return err
		}
		if ev == nil {
			// fn may have changed k before deciding nothing changed.
			out, err = load("")
			return err
		}
		k.ID, k.WorkspaceID = id, workspaceID
		vals, err := keyValues(k)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, updateKeySQL, append(vals, id, workspaceID)...)
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
		if out, err = load(""); err != nil {
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
	return db.inTx(ctx, func(tx pgx.Tx) error {
		// Loaded (and locked) first: the key.deleted webhook shows the key as it was.
		k, err := scanKey(tx.QueryRow(ctx, keySelect+`WHERE k.id = $1 AND k.workspace_id = $2 FOR UPDATE OF k`, id, workspaceID))
		if err != nil {
			return notFound(err, "key")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM keys WHERE id = $1 AND workspace_id = $2`, id, workspaceID); err != nil {
			return wrap(err, "delete key")
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
	q, args := `SELECT COUNT(*) FROM keys WHERE workspace_id = $1`, []any{workspaceID}
	if owner != "" {
		q, args = q+` AND owner = $2`, append(args, owner)
	}
	var n int
	if err := db.pool.QueryRow(ctx, q, args...).Scan(&n); err != nil {
		return 0, wrap(err, "count keys")
	}
	return n, nil
}
