package sqlite

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchkey/latchkey"
)

// Times are stored as unix microseconds: an integer compares and indexes
// the same way on every store, and microseconds are PostgreSQL's precision.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(v int64) time.Time { return time.UnixMicro(v).UTC() }

func nullMicros(t *time.Time) sql.NullInt64 {
	if t == nil {
		return sql.NullInt64{}
	}
	return sql.NullInt64{Int64: t.UnixMicro(), Valid: true}
}

func fromNullMicros(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := fromMicros(v.Int64)
	return &t
}

// marshal encodes v as JSON TEXT; empty is what nil becomes, so that a nil
// slice or map reads back as an empty one rather than JSON null.
func marshal(v any, empty string) (string, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return "", fmt.Errorf("sqlite: encode: %w", err)
	}
	if string(b) == "null" {
		return empty, nil
	}
	return string(b), nil
}

func unmarshal(s string, v any) error {
	if err := json.Unmarshal([]byte(s), v); err != nil {
		return fmt.Errorf("sqlite: decode: %w", err)
	}
	return nil
}

// Page sizes of the lists.
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
// clients treat it as opaque.
func encodeCursor(id string) string { return base64.RawURLEncoding.EncodeToString([]byte(id)) }

func decodeCursor(c string) (string, error) {
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil || len(b) == 0 || len(b) > 100 {
		return "", latchkey.Errorf(latchkey.EINVALID, "invalid cursor").WithDetail("field", "cursor")
	}
	return string(b), nil
}

// escapeLike escapes LIKE's wildcards so user input matches literally
// (with ESCAPE '\').
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func isConstraint(err error, code int) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == code
}

// isUnique reports a UNIQUE or PRIMARY KEY violation, optionally on one
// column ("table.column", as SQLite names it in the message).
func isUnique(err error, column string) bool {
	if !isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) && !isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return false
	}
	return column == "" || strings.Contains(err.Error(), column)
}

func isForeignKey(err error) bool {
	return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY)
}

// notFound converts sql.ErrNoRows to ENOTFOUND and wraps anything else.
func notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "%s not found", what)
	}
	return fmt.Errorf("sqlite: %s: %w", what, err)
}

// insertEvent writes ev in tx. Every change records its event in its own
// transaction, so the log never misses a change nor shows one that failed.
func insertEvent(ctx context.Context, tx *sql.Tx, ev *latchkey.Event) error {
	if ev.ID == "" {
		return latchkey.Errorf(latchkey.EINVALID, "event without an id")
	}
	var data sql.NullString
	if len(ev.Data) > 0 {
		b, err := json.Marshal(ev.Data)
		if err != nil {
			return fmt.Errorf("sqlite: encode event data: %w", err)
		}
		data = sql.NullString{String: string(b), Valid: true}
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO events
		(id, workspace_id, at, actor_type, actor_id, actor_label, action, target, ip, data)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		ev.ID, ev.WorkspaceID, micros(ev.At), ev.Actor.Type, ev.Actor.ID, ev.Actor.Label,
		ev.Action, ev.Target, ev.IP, data)
	if isUnique(err, "") {
		return latchkey.Errorf(latchkey.ECONFLICT, "event %s already exists", ev.ID)
	}
	if err != nil {
		return fmt.Errorf("sqlite: insert event: %w", err)
	}
	return nil
}
