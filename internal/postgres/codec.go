package postgres

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkey/latchkey"
)

// Times go in as given (pgx truncates them to microseconds, PostgreSQL's
// precision) and come out in UTC, as the SQLite store returns them.
func utc(t time.Time) time.Time { return t.UTC() }

func utcPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// marshal encodes v as JSON; empty is what nil becomes, so that a nil slice
// or map reads back as an empty one rather than JSON null.
func marshal(v any, empty string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("postgres: encode: %w", err)
	}
	if string(b) == "null" {
		return empty, nil
	}
	return string(b), nil
}

func unmarshal(b []byte, v any) error {
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("postgres: decode: %w", err)
	}
	return nil
}

// Page sizes of the lists, as in the SQLite store.
const (
	defaultLimit = 50
	maxLimit     = 200
)

func pageSize(n int) int {
	switch {
	case n <= 0:
		return defaultLimit
	case n > maxLimit:
		return maxLimit
	}
	return n
}

// A cursor is the id of the last row of a page, base64url-encoded so that
// clients treat it as opaque; the same form as the SQLite store's.
func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || len(b) > 100 || unmatchable(string(b)) {
		return "", latchkey.Errorf(latchkey.EINVALID, "invalid cursor").WithDetail("field", "cursor")
	}
	return string(b), nil
}

// escapeLike escapes LIKE's wildcards so user input matches literally
// (with ESCAPE '\').
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// unmatchable reports whether a filter string cannot equal or be part of
// any stored text: PostgreSQL text holds neither NUL nor invalid UTF-8.
func unmatchable(strs ...string) bool {
	for _, s := range strs {
		if strings.ContainsRune(s, 0) || !utf8.ValidString(s) {
			return true
		}
	}
	return false
}

// SQLSTATE codes the store turns into latchkey errors.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
	// PostgreSQL text cannot hold NUL (0x00) or invalid UTF-8, nor JSONB
	// "\u0000", all of which SQLite stores; such input is the caller's
	// error, not the server's.
	characterNotInRepertoire = "22021"
	untranslatableCharacter  = "22P05"
)

// pgError returns the server's error in err's chain, or nil.
func pgError(err error) *pgconn.PgError {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// isUnique reports a unique or primary key violation, on the named
// constraint when constraint is not "".
func isUnique(err error, constraint string) bool {
	e := pgError(err)
	return e != nil && e.Code == uniqueViolation && (constraint == "" || e.ConstraintName == constraint)
}

func isForeignKey(err error) bool {
	e := pgError(err)
	return e != nil && e.Code == foreignKeyViolation
}

func isUnstorable(err error) bool {
	e := pgError(err)
	return e != nil && (e.Code == characterNotInRepertoire || e.Code == untranslatableCharacter)
}

// storeError turns input PostgreSQL cannot store into EINVALID and returns
// any other error unchanged.
func storeError(err error) error {
	if isUnstorable(err) {
		return latchkey.Errorf(latchkey.EINVALID, "text must be valid UTF-8 without NUL characters")
	}
	return err
}

// notFound converts pgx.ErrNoRows to ENOTFOUND, and so an id that no
// stored text can equal, and wraps anything else.
func notFound(err error, what string) error {
	if errors.Is(err, pgx.ErrNoRows) || isUnstorable(err) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "%s not found", what)
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// wrap wraps err with what the store was doing, keeping EINVALID for
// unstorable input.
func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	if e := storeError(err); e != err {
		return e
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}

// insertEvent writes ev in tx. Every change records its event in its own
// transaction, so the log never misses a change nor shows one that failed.
func insertEvent(ctx context.Context, tx pgx.Tx, ev *latchkey.Event) error {
	if ev.ID == "" {
		return latchkey.Errorf(latchkey.EINVALID, "event without an id")
	}
	var data *string
	if len(ev.Data) > 0 {
		b, err := json.Marshal(ev.Data)
		if err != nil {
			return fmt.Errorf("postgres: encode event data: %w", err)
		}
		s := string(b)
		data = &s
	}
	_, err := tx.Exec(ctx, `INSERT INTO events
		(id, workspace_id, at, actor_type, actor_id, actor_label, action, target, ip, data)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		ev.ID, ev.WorkspaceID, ev.At, ev.Actor.Type, ev.Actor.ID, ev.Actor.Label,
		ev.Action, ev.Target, ev.IP, data)
	if isUnique(err, "") {
		return latchkey.Errorf(latchkey.ECONFLICT, "event %s already exists", ev.ID)
	}
	return wrap(err, "insert event")
}
