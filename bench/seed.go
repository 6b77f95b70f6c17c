package main

import (
	"bytes"
	"context"
	crand "crypto/rand"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	_ "modernc.org/sqlite" // the driver latchkey's SQLite store uses

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/token"
)

// seedSQLite inserts n production public_api keys of workspace ws into the
// SQLite store at path, in one transaction, before any server opens it:
// through the API a million keys would take hours (each create is a
// durable transaction with an audit event). The rows are what the API
// would write: real tokens with their checksum, their SHA-256 (distinct and
// random), ULID ids, the display prefix, an expiry a year away. It returns
// the secrets.
func seedSQLite(ctx context.Context, path, ws, createdBy string, n int) ([]string, error) {
	db, err := sql.Open("sqlite", path+
		"?_pragma=busy_timeout(5000)&_pragma=synchronous(OFF)&_pragma=cache_size(-262144)&_pragma=foreign_keys(1)")
	if err != nil {
		return nil, err
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO keys (id, workspace_id, name, name_lower, description,
		type, environment, owner, scopes, settings, created_by, created_at, expires_at, start, hash)
		VALUES (?, ?, ?, ?, '', 'public_api', 'production', 'workspace', ?, '{}', ?, ?, ?, ?, ?)`)
	if err != nil {
		return nil, fmt.Errorf("preparing the insert (has the schema changed?): %w", err)
	}
	defer ins.Close()

	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return nil, err
	}
	rnd := rand.NewChaCha8(seed) // fast, and as unpredictable as the test needs
	format, err := token.NewFormat(token.DefaultPrefix)
	if err != nil {
		return nil, err
	}
	// Rows go in in hash order: the unique index on hash then grows at its
	// end like the others (ids are ULIDs), which halves the seeding time;
	// the table it builds is the same.
	type row struct {
		secret, start string
		hash          [32]byte
	}
	rows := make([]row, n)
	for i := range rows {
		secret, start, err := format.New(rnd, latchkey.Production)
		if err != nil {
			return nil, err
		}
		rows[i] = row{secret, start, token.Hash(secret)}
	}
	slices.SortFunc(rows, func(a, b row) int { return bytes.Compare(a.hash[:], b.hash[:]) })

	ids := id.NewGenerator(nil, rnd)
	now := time.Now()
	created, expires := now.UnixMicro(), now.AddDate(1, 0, 0).UnixMicro()
	scopes := `["` + benchScope + `"]`
	secrets := make([]string, n)
	for i, r := range rows {
		name := fmt.Sprintf("Seeded key %d", i)
		if _, err := ins.ExecContext(ctx, ids.New(id.Key), ws, name, name, scopes,
			createdBy, created, expires, r.start, r.hash[:]); err != nil {
			return nil, fmt.Errorf("inserting key %d: %w", i, err)
		}
		secrets[i] = r.secret
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	// Fold the WAL back into the file, as a long-running store would have.
	if _, err := db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		return nil, err
	}
	return secrets, nil
}
