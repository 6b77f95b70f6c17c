package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/spf13/pflag"
)

// storeFlags chooses the store: PostgreSQL when a database URL is given,
// else SQLite in the data directory. Every command that opens a store takes
// them.
type storeFlags struct {
	DataDir     string
	DatabaseURL string
	// Migrate applies migrations at open (PostgreSQL; SQLite always does,
	// having one process and an embedded file).
	Migrate bool
}

func (s *storeFlags) register(f *pflag.FlagSet, withMigrate bool) {
	f.StringVar(&s.DataDir, "data-dir", "./latchkey-data", "directory of the SQLite store (when no --database-url)")
	f.StringVar(&s.DatabaseURL, "database-url", "", "PostgreSQL URL (postgres://user@host/db); the store of several instances")
	names := []string{"data-dir", "database-url"}
	if withMigrate {
		f.BoolVar(&s.Migrate, "migrate", true, "apply database migrations at start")
		names = append(names, "migrate")
	} else {
		s.Migrate = true
	}
	fromEnv(f, names...)
}

// opened is a store and, on PostgreSQL, the handle that also carries
// LISTEN/NOTIFY for cache invalidation across instances.
type opened struct {
	latchkey.Store
	pg *postgres.DB
}

func (s storeFlags) open(ctx context.Context) (opened, error) {
	if s.DatabaseURL != "" {
		var db *postgres.DB
		var err error
		if s.Migrate {
			db, err = postgres.Open(ctx, s.DatabaseURL)
		} else {
			db, err = postgres.Connect(ctx, s.DatabaseURL)
		}
		if err != nil {
			return opened{}, err
		}
		return opened{Store: db, pg: db}, nil
	}
	if err := os.MkdirAll(s.DataDir, 0o700); err != nil {
		return opened{}, fmt.Errorf("creating the data directory: %w", err)
	}
	db, err := sqlite.Open(ctx, filepath.Join(s.DataDir, "latchkey.db"))
	if err != nil {
		return opened{}, err
	}
	return opened{Store: db}, nil
}

// where describes the store for messages, without credentials.
func (s storeFlags) where() string {
	if s.DatabaseURL != "" {
		return "PostgreSQL"
	}
	return s.DataDir
}
