package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/api"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/server"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/token"
	"github.com/latchkey/latchkey/internal/verify"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Config is everything the server needs, from flags and LATCHKEY_* variables.
type Config struct {
	DataDir        string
	Addr           string
	CatalogFile    string
	TokenPrefix    string
	OwnerEmail     string
	SecureCookies  bool
	TrustedOrigins []string
	FlushEvery     time.Duration
	ShutdownGrace  time.Duration

	Logger *slog.Logger
	// Stdout receives the bootstrap message (URL and one-time password).
	Stdout io.Writer
	Now    func() time.Time
}

// Main is the wired server: store, verifier, management service, HTTP.
// End-to-end tests run it on 127.0.0.1:0 exactly as `latchkey serve` does.
type Main struct {
	cfg      Config
	log      *slog.Logger
	store    *sqlite.DB
	verifier *verify.Verifier
	service  *manage.Service
	server   *server.Server

	closeOnce sync.Once
}

// NewMain opens the store, bootstraps an empty one and binds the address.
func NewMain(ctx context.Context, cfg Config) (*Main, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(os.Stderr, nil))
	}
	if cfg.Stdout == nil {
		cfg.Stdout = io.Discard
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.ShutdownGrace == 0 {
		cfg.ShutdownGrace = 15 * time.Second
	}
	m := &Main{cfg: cfg, log: cfg.Logger}
	catalog, err := loadCatalog(cfg.CatalogFile)
	if err != nil {
		return nil, err
	}
	format, err := token.NewFormat(cfg.TokenPrefix)
	if err != nil {
		return nil, usagef("%v", err)
	}
	store, err := openStore(ctx, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	m.store = store

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.verifier = verify.New(verify.Config{
		Store: store, Usage: store, Format: format, Now: cfg.Now,
		Registerer: reg, Logger: cfg.Logger, FlushEvery: cfg.FlushEvery,
	})
	m.service = manage.New(manage.Config{
		Store: store, Catalog: catalog, Format: format, Invalidator: m.verifier, Now: cfg.Now,
	})
	boot, err := m.bootstrap(ctx)
	if err != nil {
		store.Close()
		return nil, err
	}
	m.server, err = server.New(server.Config{
		Addr: cfg.Addr, Logger: cfg.Logger, Verifier: m.verifier,
		Surfaces: []server.Mounter{api.New(api.Config{
			Service: m.service, Keys: m.verifier, Logger: cfg.Logger, SecureCookies: cfg.SecureCookies,
		})},
		Ready:          func(ctx context.Context) error { _, err := store.Initialized(ctx); return err },
		Gatherer:       reg,
		Metrics:        server.NewMetrics(reg),
		TrustedOrigins: cfg.TrustedOrigins,
	})
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	// The address is bound: connections queue until Run serves them, so
	// the URL can be announced now.
	fmt.Fprintf(cfg.Stdout, "%slatchkey is listening on %s\n", boot, m.URL())
	return m, nil
}

func loadCatalog(path string) (*latchkey.Catalog, error) {
	if path == "" {
		return latchkey.DefaultCatalog(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, usagef("reading the catalog: %v", err)
	}
	c, err := latchkey.ParseCatalog(b)
	if err != nil {
		return nil, usagef("%v", err)
	}
	return c, nil
}

func openStore(ctx context.Context, dir string) (*sqlite.DB, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("creating the data directory: %w", err)
	}
	return sqlite.Open(ctx, filepath.Join(dir, "latchkey.db"))
}

// bootstrap creates a workspace and an owner on an empty store and returns
// how to log in; the password is shown this once and never stored in clear.
func (m *Main) bootstrap(ctx context.Context) (string, error) {
	done, err := m.store.Initialized(ctx)
	if err != nil || done {
		return "", err
	}
	email := m.cfg.OwnerEmail
	first, err := m.service.Init(ctx, "My workspace", email, "")
	if err != nil {
		return "", fmt.Errorf("initialising the store: %w", err)
	}
	m.log.Info("initialised an empty store", "workspace_id", first.Workspace.ID, "owner", first.Owner.Email)
	return fmt.Sprintf("latchkey initialised a new store in %s\n  workspace: %s (%s)\n  owner:     %s\n  password:  %s   (shown once: store it now)\n",
		m.cfg.DataDir, first.Workspace.Name, first.Workspace.ID, first.Owner.Email, first.Password), nil
}

// URL is the server's base URL.
func (m *Main) URL() string { return "http://" + m.server.Addr() }

// Run serves until ctx is cancelled, then drains requests in flight and
// flushes usage counters, so SIGTERM loses nothing.
func (m *Main) Run(ctx context.Context) error {
	m.log.Info("listening", "addr", m.server.Addr())

	vctx, stopVerifier := context.WithCancel(context.WithoutCancel(ctx))
	verifierDone := make(chan struct{})
	go func() {
		defer close(verifierDone)
		m.verifier.Run(vctx)
	}()
	serveErr := make(chan error, 1)
	go func() { serveErr <- m.server.Serve() }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	m.log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.ShutdownGrace)
	defer cancel()
	if e := m.server.Shutdown(sctx); e != nil {
		err = errors.Join(err, e)
	}
	stopVerifier() // Run flushes the last usage counters before it returns
	<-verifierDone
	return err
}

// Close releases the store. Call it after Run has returned.
func (m *Main) Close() error {
	var err error
	m.closeOnce.Do(func() { err = m.store.Close() })
	return err
}
