// Package pgtest gives tests a PostgreSQL database of their own, created on
// the server at LATCHKEY_TEST_DATABASE_URL and dropped when the test ends.
// Tests skip when no server answers, and fail instead when
// LATCHKEY_REQUIRE_ALL=1, so CI cannot pass by skipping them.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// DefaultURL is the server tests use when LATCHKEY_TEST_DATABASE_URL is unset.
const DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Database is a database created for one test.
type Database struct {
	Name  string
	Admin *pgx.Conn // connected to the server's maintenance database
	base  string
}

// New creates the test's database, or skips the test when no server
// answers (fails instead when LATCHKEY_REQUIRE_ALL=1).
func New(t testing.TB) *Database {
	t.Helper()
	base := os.Getenv("LATCHKEY_TEST_DATABASE_URL")
	if base == "" {
		base = DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	admin, err := pgx.Connect(ctx, base)
	if err != nil {
		msg := fmt.Sprintf("PostgreSQL not reachable at %s (%v): set LATCHKEY_TEST_DATABASE_URL", Redact(base), err)
		if os.Getenv("LATCHKEY_REQUIRE_ALL") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	d := &Database{Name: "latchkey_test_" + hex.EncodeToString(b), Admin: admin, base: base}
	if _, err := admin.Exec(ctx, "CREATE DATABASE "+d.Name); err != nil {
		admin.Close(ctx)
		t.Fatalf("CREATE DATABASE: got %v, want nil", err)
	}
	t.Cleanup(func() {
		// Dropping a database checkpoints; on a loaded machine, with the
		// contract suite's many schemas, that has taken more than 30 s.
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if _, err := admin.Exec(ctx, "DROP DATABASE "+d.Name+" WITH (FORCE)"); err != nil {
			t.Errorf("DROP DATABASE %s: got %v, want nil", d.Name, err)
		}
		admin.Close(ctx)
	})
	return d
}

// URL returns the URL of the test's database with extra connection
// parameters (such as search_path).
func (d *Database) URL(params map[string]string) string {
	if u, err := url.Parse(d.base); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + d.Name
		q := u.Query()
		for k, v := range params {
			q.Set(k, v)
		}
		u.RawQuery = q.Encode()
		return u.String()
	}
	// A key=value connection string: later keys win.
	parts := []string{d.base, "dbname=" + d.Name}
	for k, v := range params {
		parts = append(parts, k+"="+v)
	}
	return strings.Join(parts, " ")
}

// Redact hides the password of a connection URL for messages.
func Redact(dsn string) string {
	if u, err := url.Parse(dsn); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "the configured server"
}
