package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/latchkey/latchkey"
)

// The key row layer: adding a column to keys touches keySelect, keyColumns,
// keyValues and scanKey here, and one migration per database.

// keySelect derives OwnerActive in the same query: a personal key works only
// while its owner has an active membership of the key's workspace.
const keySelect = `SELECT k.id, k.workspace_id, k.name, k.description, k.type, k.environment, k.owner,
	k.scopes, k.settings, k.callback_url, k.rate_limit, k.rate_period, k.created_by, k.created_at,
	k.expires_at, k.last_used_at, k.revoked_at, k.revoked_by, k.start,
	k.hash, k.previous_hash, k.previous_expires_at, k.allowed_ips,
	k.disabled_at, k.disabled_by, k.external_id, k.meta, k.ratelimits,
	c.remaining + c.leased, c.period_start, c.refill_interval, c.refill_amount,
	CASE WHEN k.owner = 'workspace' THEN TRUE ELSE COALESCE(m.active, FALSE) END
	FROM keys k LEFT JOIN members m ON m.workspace_id = k.workspace_id AND m.user_id = k.owner
	LEFT JOIN key_budgets c ON c.key_id = k.id AND c.name = '' `

// keyColumns are the columns a write sets besides id and workspace_id, in
// the order of keyValues.
var keyColumns = []string{"name", "name_lower", "description", "type", "environment", "owner",
	"scopes", "settings", "callback_url", "rate_limit", "rate_period", "created_by", "created_at",
	"expires_at", "last_used_at", "revoked_at", "revoked_by", "start",
	"hash", "previous_hash", "previous_expires_at", "allowed_ips",
	"disabled_at", "disabled_by", "external_id", "meta", "ratelimits"}

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
	allowed, err := marshal(k.AllowedIPs, "[]")
	if err != nil {
		return nil, err
	}
	var prev any // nil binds NULL; an empty []byte might bind an empty blob
	if k.PreviousHash != nil {
		prev = k.PreviousHash[:]
	}
	meta := "{}"
	if len(k.Meta) > 0 {
		meta = string(k.Meta)
	}
	limits, err := marshal(k.RateLimits, "[]")
	if err != nil {
		return nil, err
	}
	return []any{k.Name, strings.ToLower(k.Name), k.Description, k.Type, string(k.Environment), k.Owner,
		scopes, settings, k.CallbackURL, limit, period, k.CreatedBy, k.CreatedAt,
		k.ExpiresAt, k.LastUsedAt, k.RevokedAt, k.RevokedBy, k.Start,
		k.Hash[:], prev, k.PreviousExpiresAt, allowed,
		k.DisabledAt, k.DisabledBy, k.ExternalID, meta, limits}, nil
}

// verifySelect reads what a verification decides on (KeyForVerify): 25
// of keySelect's 33 columns. The cold verify path runs it once per
// request, and a driver's cost grows with every column it describes and
// converts.
const verifySelect = `SELECT k.id, k.workspace_id, k.name, k.type, k.environment, k.owner,
	k.scopes, k.settings, k.rate_limit, k.rate_period,
	k.expires_at, k.revoked_at,
	k.hash, k.previous_hash, k.previous_expires_at, k.allowed_ips,
	k.disabled_at, k.external_id, k.meta, k.ratelimits,
	c.remaining + c.leased, c.period_start, c.refill_interval, c.refill_amount,
	CASE WHEN k.owner = 'workspace' THEN TRUE ELSE COALESCE(m.active, FALSE) END
	FROM keys k LEFT JOIN members m ON m.workspace_id = k.workspace_id AND m.user_id = k.owner
	LEFT JOIN key_budgets c ON c.key_id = k.id AND c.name = '' `

func scanKey(row Row) (*latchkey.Key, error) {
	var k latchkey.Key
	var raw keyRaw
	err := row.Scan(&k.ID, &k.WorkspaceID, &k.Name, &k.Description, &k.Type, &k.Environment, &k.Owner,
		&raw.scopes, &raw.settings, &k.CallbackURL, &raw.limit, &raw.period, &k.CreatedBy, &k.CreatedAt,
		&k.ExpiresAt, &k.LastUsedAt, &k.RevokedAt, &k.RevokedBy, &k.Start,
		&raw.hash, &raw.prev, &k.PreviousExpiresAt, &raw.allowed,
		&k.DisabledAt, &k.DisabledBy, &k.ExternalID, &raw.meta, &raw.limits,
		&raw.credits.remaining, &raw.credits.since, &raw.credits.interval, &raw.credits.amount, &k.OwnerActive)
	if err != nil {
		return nil, err
	}
	return &k, raw.decode(&k)
}

// scanVerifyKey scans a row of verifySelect.
func scanVerifyKey(row Row) (*latchkey.Key, error) {
	var k latchkey.Key
	var raw keyRaw
	err := row.Scan(&k.ID, &k.WorkspaceID, &k.Name, &k.Type, &k.Environment, &k.Owner,
		&raw.scopes, &raw.settings, &raw.limit, &raw.period,
		&k.ExpiresAt, &k.RevokedAt,
		&raw.hash, &raw.prev, &k.PreviousExpiresAt, &raw.allowed,
		&k.DisabledAt, &k.ExternalID, &raw.meta, &raw.limits,
		&raw.credits.remaining, &raw.credits.since, &raw.credits.interval, &raw.credits.amount, &k.OwnerActive)
	if err != nil {
		return nil, err
	}
	return &k, raw.decode(&k)
}

// keyRaw holds the columns of a key row that are decoded after the scan.
type keyRaw struct {
	scopes, settings, allowed, meta, limits []byte
	hash, prev                              []byte
	limit, period                           *int64
	credits                                 creditsRow
}

func (raw *keyRaw) decode(k *latchkey.Key) error {
	// The common values skip encoding/json: a cold verification scans a
	// key per request, and most keys have no named limits, no allowlist,
	// no settings, no metadata and a plain list of scopes.
	if !emptyJSON(raw.limits) {
		if err := unmarshal(raw.limits, &k.RateLimits); err != nil {
			return err
		}
	}
	if len(k.RateLimits) == 0 {
		k.RateLimits = nil
	}
	k.Credits = raw.credits.credits()
	if err := unmarshalStrings(raw.scopes, &k.Scopes); err != nil {
		return err
	}
	if emptyJSON(raw.settings) {
		k.Settings = map[string]any{}
	} else if err := unmarshal(raw.settings, &k.Settings); err != nil {
		return err
	}
	if !emptyJSON(raw.allowed) {
		if err := unmarshalStrings(raw.allowed, &k.AllowedIPs); err != nil {
			return err
		}
	}
	if len(k.AllowedIPs) == 0 {
		k.AllowedIPs = nil
	}
	// Compacted again: JSONB answers with its own spacing. An empty
	// object is no metadata.
	if !emptyJSON(raw.meta) {
		var err error
		if k.Meta, err = latchkey.ParseMeta(raw.meta); err != nil {
			return fmt.Errorf("key %s has malformed meta: %w", k.ID, err)
		}
	}
	if raw.limit != nil && raw.period != nil {
		k.RateLimit = &latchkey.RateLimit{Limit: int(*raw.limit), Period: latchkey.Duration(*raw.period)}
	}
	if len(raw.hash) != 32 || (raw.prev != nil && len(raw.prev) != 32) {
		return fmt.Errorf("key %s has a malformed hash", k.ID)
	}
	k.Hash = [32]byte(raw.hash)
	if raw.prev != nil {
		p := [32]byte(raw.prev)
		k.PreviousHash = &p
	}
	return nil
}

var (
	insertKeySQL = `INSERT INTO keys (id, workspace_id, ` + strings.Join(keyColumns, ", ") +
		`) VALUES (?, ?` + strings.Repeat(", ?", len(keyColumns)) + `)`
	updateKeySQL = `UPDATE keys SET ` + strings.Join(keyColumns, " = ?, ") + ` = ? WHERE id = ? AND workspace_id = ?`
)

// Statements of the cold verify path, which a database may prepare once
// per connection rather than parse on every call.
const (
	keyByHashSQL            = keySelect + `WHERE k.hash = ?`
	keyByPreviousHashSQL    = keySelect + `WHERE k.previous_hash = ?`
	verifyByHashSQL         = verifySelect + `WHERE k.hash = ?`
	verifyByPreviousHashSQL = verifySelect + `WHERE k.previous_hash = ?`
)

// HotQueries are the statements worth preparing once per connection.
var HotQueries = []string{verifyByHashSQL, verifyByPreviousHashSQL, keyByHashSQL, keyByPreviousHashSQL}

// CreateKey inserts k and ev; ECONFLICT if its id or one of its hashes
// exists, ENOTFOUND if its workspace does not.
func (s *Store) CreateKey(ctx context.Context, k *latchkey.Key, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		if err := s.insertKey(ctx, tx, k); err != nil {
			return err
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = k.WorkspaceID
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

func (s *Store) insertKey(ctx context.Context, tx Conn, k *latchkey.Key) error {
	vals, err := keyValues(k)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, insertKeySQL, append([]any{k.ID, k.WorkspaceID}, vals...)...)
	if err := s.keyWriteError(err, k.ID); err != nil {
		return err
	}
	if err := s.writeBudgets(ctx, tx, nil, k); err != nil {
		return err
	}
	return s.announce(ctx, tx, k.Hash)
}

func (s *Store) keyWriteError(err error, id string) error {
	switch {
	case err == nil:
		return nil
	case s.isUnique(err, KeyID):
		return latchkey.Errorf(latchkey.ECONFLICT, "key %s already exists", id)
	case s.isUnique(err, AnyConstraint):
		return latchkey.Errorf(latchkey.ECONFLICT, "a key with this secret already exists")
	case s.isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	}
	return s.wrap(err, "write key "+id)
}

// Key returns a key of the workspace; ENOTFOUND if absent or in another workspace.
func (s *Store) Key(ctx context.Context, workspaceID, id string) (*latchkey.Key, error) {
	k, err := scanKey(s.read.QueryRow(ctx, keySelect+`WHERE k.id = ? AND k.workspace_id = ?`, id, workspaceID))
	if err != nil {
		return nil, s.notFound(err, "key")
	}
	return k, nil
}

// KeyByHash finds the key whose current or previous secret hashes to h,
// preferring a current match; ENOTFOUND if none. It does not check
// PreviousExpiresAt: the store has no clock, so the caller compares h with
// k.Hash and decides whether a previous secret is still within its grace
// period.
func (s *Store) KeyByHash(ctx context.Context, h [32]byte) (*latchkey.Key, error) {
	return s.keyByHash(ctx, h, scanKey, keyByHashSQL, keyByPreviousHashSQL)
}

// KeyForVerify is KeyByHash reading only what a verification decides on:
// the key's description, callback URL, creation, last use, start and the
// actors of its revocation and disabling are left zero.
func (s *Store) KeyForVerify(ctx context.Context, h [32]byte) (*latchkey.Key, error) {
	return s.keyByHash(ctx, h, scanVerifyKey, verifyByHashSQL, verifyByPreviousHashSQL)
}

func (s *Store) keyByHash(ctx context.Context, h [32]byte, scan func(Row) (*latchkey.Key, error), current, previous string) (*latchkey.Key, error) {
	// Two indexed lookups rather than one OR, which every planner serves
	// from the two unique indexes; a previous secret is the rare case.
	k, err := scan(s.read.QueryRow(ctx, current, h[:]))
	if errors.Is(err, sql.ErrNoRows) {
		k, err = scan(s.read.QueryRow(ctx, previous, h[:]))
	}
	if err != nil {
		return nil, s.notFound(err, "key")
	}
	return k, nil
}

// UpdateKey loads the key with its row locked, applies fn and stores the
// result with fn's event in one transaction, so concurrent updates cannot
// be lost. fn's error is returned unchanged and nothing is written; a nil
// event means no change, and the key as stored is returned. The key's id
// and workspace cannot be changed by fn. fn must not call the store's
// write methods (SQLite has a single writer, which the transaction holds).
func (s *Store) UpdateKey(ctx context.Context, workspaceID, id string, fn func(*latchkey.Key) (*latchkey.Event, error)) (*latchkey.Key, error) {
	var out *latchkey.Key
	err := s.inTx(ctx, func(tx Conn) error {
		load := func(lock string) (*latchkey.Key, error) {
			k, err := scanKey(tx.QueryRow(ctx, keySelect+`WHERE k.id = ? AND k.workspace_id = ?`+lock, id, workspaceID))
			if err != nil {
				return nil, s.notFound(err, "key")
			}
			return k, nil
		}
		// NO KEY UPDATE: nothing references keys, but it is the lock an
		// UPDATE takes anyway. OF k: the member side of the join may be NULL.
		k, err := load(s.lock("FOR NO KEY UPDATE OF k"))
		if err != nil {
			return err
		}
		// What the budgets were, before fn changes k in place.
		old := &latchkey.Key{RateLimits: slices.Clone(k.RateLimits)}
		if k.Credits != nil {
			c := *k.Credits
			if c.Refill != nil {
				r := *c.Refill
				c.Refill = &r
			}
			old.Credits = &c
		}
		before := k.Hash
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
		if err := s.keyWriteError(err, id); err != nil {
			return err
		}
		if err := s.writeBudgets(ctx, tx, old, k); err != nil {
			return err
		}
		if k.Hash != before {
			// A reset: the previous secret was announced when written.
			if err := s.announce(ctx, tx, k.Hash); err != nil {
				return err
			}
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = workspaceID
		}
		if err := s.insertEvent(ctx, tx, ev); err != nil {
			return err
		}
		// Reload so that the answer is exactly what is stored (times
		// truncated to microseconds, OwnerActive derived for a new owner).
		if out, err = load(""); err != nil {
			return err
		}
		return s.enqueueWebhook(ctx, tx, ev, out)
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// DeleteKey removes the key and records ev; its events and its usage
// stay, the usage log's entries folded first. ENOTFOUND if the key is
// absent or in another workspace.
func (s *Store) DeleteKey(ctx context.Context, workspaceID, id string, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		if err := s.foldKeys(ctx, tx, workspaceID, []string{id}); err != nil {
			return err
		}
		// Loaded (and locked) next: the key.deleted webhook shows the key as it was.
		k, err := scanKey(tx.QueryRow(ctx, keySelect+`WHERE k.id = ? AND k.workspace_id = ?`+s.lock("FOR UPDATE OF k"), id, workspaceID))
		if err != nil {
			return s.notFound(err, "key")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM keys WHERE id = ? AND workspace_id = ?`, id, workspaceID); err != nil {
			return s.wrap(err, "delete key")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = workspaceID
		}
		if err := s.insertEvent(ctx, tx, &ev); err != nil {
			return err
		}
		return s.enqueueWebhook(ctx, tx, &ev, k)
	})
}

// CountKeys counts a workspace's keys of owner ("" for every owner),
// revoked and expired ones included.
func (s *Store) CountKeys(ctx context.Context, workspaceID, owner string) (int, error) {
	var c conds
	c.add("workspace_id = ?", workspaceID)
	if owner != "" {
		c.add("owner = ?", owner)
	}
	var n int
	if err := s.read.QueryRow(ctx, `SELECT COUNT(*) FROM keys WHERE `+c.String(), c.args...).Scan(&n); err != nil {
		return 0, s.wrap(err, "count keys")
	}
	return n, nil
}
