package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/api"
	"github.com/latchkey/latchkey/internal/clientip"
	"github.com/latchkey/latchkey/internal/console"
	"github.com/latchkey/latchkey/internal/gctune"
	"github.com/latchkey/latchkey/internal/jobs"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/notify"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/scim"
	"github.com/latchkey/latchkey/internal/server"
	"github.com/latchkey/latchkey/internal/token"
	"github.com/latchkey/latchkey/internal/vault"
	"github.com/latchkey/latchkey/internal/verify"
	"github.com/latchkey/latchkey/internal/webhook"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Config is everything the server needs, from flags and LATCHKEY_* variables.
type Config struct {
	DataDir string
	// VaultKeyURLs are the keepers of the vault master key (see openVault).
	VaultKeyURLs []string
	// DatabaseURL selects PostgreSQL instead of SQLite in DataDir.
	DatabaseURL string
	// SkipMigrate leaves the PostgreSQL schema as it is (migrate with
	// `latchkey migrate` as a separate deployment step).
	SkipMigrate    bool
	Addr           string
	CatalogFile    string
	TokenPrefix    string
	OwnerEmail     string
	SecureCookies  bool
	TrustedOrigins []string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed when telling client addresses (audit log, login throttling).
	TrustedProxies []string
	// PublicURL is the URL people use to reach latchkey (behind a proxy),
	// for links in the mail it sends.
	PublicURL string
	// SignIn configures single sign-on and second factors (signin.go).
	SignIn SignInConfig
	// PasswordHashes bounds how many argon2id hashes run at once in the
	// process (DefaultConcurrency of internal/password when zero).
	PasswordHashes int
	FlushEvery     time.Duration
	// FoldEvery is how often the usage log is folded into the daily
	// counters and last_used_at (the verifier's default when zero).
	FoldEvery     time.Duration
	ShutdownGrace time.Duration
	// DrainDelay is how long a stopping server keeps serving after
	// /readyz turned 503, for load balancers to take it out (none when
	// zero; `serve` defaults to 5 seconds).
	DrainDelay time.Duration
	// DisableVerifyCache sends every verification to the store; only the
	// load harness (bench/) sets it, to measure the cold path.
	DisableVerifyCache bool
	// JobsInterval is the period of the lifecycle jobs (one minute when zero).
	JobsInterval time.Duration
	// SMTPURL delivers the outbox (smtp://user:password@host:port); without
	// it mail stays in the outbox. It holds a secret: never log it.
	SMTPURL  string
	MailFrom string
	// MailInterval is how often the outbox is drained (10 seconds when zero).
	MailInterval time.Duration
	// WebhookInterval is how often the webhook outbox is drained (10 seconds when zero).
	WebhookInterval time.Duration
	// MaxKeysPerMember and MaxKeysPerWorkspace cap keys (manage.Config:
	// zero takes the defaults, negative means no cap).
	MaxKeysPerMember, MaxKeysPerWorkspace int
	// WebhooksAllowPrivate lets webhooks reach loopback, private and other
	// non-public addresses (receivers on latchkey's own network).
	WebhooksAllowPrivate bool
	// Failures bounds store calls and sets the verify path's outage policy.
	Failures FailureConfig
	// MetricsAddr serves /metrics on its own listener instead of the main
	// one; MetricsPprof adds net/http/pprof there (loopback only).
	MetricsAddr  string
	MetricsPprof bool
	// LeakVerifierKeys is GitHub's secret-scanning public keys document,
	// saved as GitHub publishes it: POST /v1/leaks accepts reports signed
	// by them. "" accepts only reports from scanner keys.
	LeakVerifierKeys string
	// Brand is the product's name, logo and accent colour, and the origins
	// that may frame the console.
	Brand console.Brand
	// PortalOrigins are the product's origins portal sessions return to.
	PortalOrigins []string

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
	store    latchkey.Store
	pg       *postgres.DB // set on PostgreSQL: LISTEN/NOTIFY between instances
	verifier *verify.Verifier
	service  *manage.Service
	keyring  *vault.Keyring // nil when vaults are off
	server   *server.Server
	jobs     *jobs.Runner
	sender   *notify.Sender // nil without SMTP
	webhooks *webhook.Sender
	reg      *prometheus.Registry
	metrics  *metricsListener // nil without MetricsAddr
	listenUp prometheus.Gauge // PostgreSQL only
	fences   fences           // PostgreSQL only: the membership set's fences
	// confirmTime times confirmChannel's fences; PostgreSQL only.
	confirmTime prometheus.Histogram

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
	if err := checkPlatformConfig(cfg); err != nil {
		return nil, err
	}
	m := &Main{cfg: cfg, log: cfg.Logger}
	password.SetConcurrency(cfg.PasswordHashes)
	catalog, err := loadCatalog(cfg.CatalogFile)
	if err != nil {
		return nil, err
	}
	format, err := token.NewFormat(cfg.TokenPrefix)
	if err != nil {
		return nil, usagef("%v", err)
	}
	signIn, keyFiles, err := cfg.SignIn.signIn(cfg.DataDir, cfg.DatabaseURL)
	if err != nil {
		return nil, err
	}
	st, err := storeFlags{DataDir: cfg.DataDir, DatabaseURL: cfg.DatabaseURL, Migrate: !cfg.SkipMigrate}.open(ctx)
	if err != nil {
		return nil, err
	}
	guarded := guardStore(st, cfg.Failures)
	store := latchkey.Store(guarded)
	m.store, m.pg = st.Store, st.pg
	var maxAge time.Duration
	if m.pg != nil {
		// Other instances change keys too: their notifications keep this
		// cache true at once, and MaxAge bounds what a lost one could hide.
		maxAge = cacheMaxAge
	}

	clients, err := clientip.New(cfg.TrustedProxies)
	if err != nil {
		store.Close()
		return nil, usagef("%v", err)
	}
	var leakKeys *api.LeakVerifier
	if cfg.LeakVerifierKeys != "" {
		if leakKeys, err = api.NewLeakVerifier(cfg.LeakVerifierKeys); err != nil {
			store.Close()
			return nil, usagef("%v", err)
		}
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.reg = reg
	if m.pg != nil {
		m.listenUp = listenerGauge(reg)
		confirmedGauge(reg, time.Now(), func() time.Time { return m.verifier.LastHeard() })
		m.confirmTime = confirmHistogram(reg)
	}
	m.verifier = verify.New(verify.Config{
		Store: store, Usage: store, Format: format, Now: cfg.Now,
		Registerer: reg, Logger: cfg.Logger, FlushEvery: cfg.FlushEvery, FoldEvery: cfg.FoldEvery,
		DisableCache: cfg.DisableVerifyCache, MaxAge: maxAge, Verifiable: catalog.Verifiable,
		ServeStale: cfg.Failures.ServeStaleOnOutage, ClientAddr: clients.Addr,
		Membership: m.membership(store),
	})
	if w, ok := st.Store.(interface{ OnKeyHash(func([32]byte)) }); ok {
		// Known before the call that writes a secret returns.
		w.OnKeyHash(m.verifier.AddKnown)
	}
	keyring, err := openVault(ctx, store, keyFiles, cfg.VaultKeyURLs, cfg.Logger)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("vault master key: %w", err)
	}
	var sealer manage.Sealer
	if keyring != nil {
		sealer, m.keyring = keyring, keyring
	}
	// Bind first: without --public-url the links the surfaces build name
	// the address actually bound (never a request's Host header).
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		store.Close()
		return nil, fmt.Errorf("listening on %s: %w", cfg.Addr, err)
	}
	public := strings.TrimRight(cfg.PublicURL, "/")
	if public == "" {
		public = "http://" + ln.Addr().String()
	}
	// Passkeys belong to the host name people reach the server at.
	signIn.PublicURL, signIn.ProductName = public, cfg.Brand.Name
	m.service = manage.New(manage.Config{
		Store: store, Catalog: catalog, Format: format, Invalidator: m.verifier, Now: cfg.Now,
		MaxKeysPerMember: cfg.MaxKeysPerMember, MaxKeysPerWorkspace: cfg.MaxKeysPerWorkspace, Vault: sealer, SignIn: signIn,
		PortalOrigins: cfg.PortalOrigins,
	})
	m.webhooks = webhook.New(webhook.Config{Store: newWebhookStore(m.store, reg), Interval: m.cfg.WebhookInterval,
		AllowPrivate: m.cfg.WebhooksAllowPrivate, Now: m.cfg.Now, Logger: m.log})
	if err := m.newSender(); err != nil {
		ln.Close()
		store.Close()
		return nil, err
	}
	// /metrics is on the main listener unless it has its own.
	var gatherer prometheus.Gatherer = reg
	if cfg.MetricsAddr != "" {
		if m.metrics, err = newMetricsListener(cfg.MetricsAddr, cfg.MetricsPprof, reg); err != nil {
			ln.Close()
			store.Close()
			return nil, err
		}
		gatherer = nil
	} else if cfg.MetricsPprof {
		ln.Close()
		store.Close()
		return nil, usagef("--metrics-pprof needs --metrics-addr")
	}
	m.server, err = server.New(server.Config{
		Listener: ln, Logger: cfg.Logger, Verifier: m.verifier,
		Surfaces: []server.Mounter{api.New(api.Config{
			Service: m.service, Keys: m.verifier, Logger: cfg.Logger, SecureCookies: cfg.SecureCookies, ClientIP: clients.IP, PublicURL: public,
			LeakKeys: leakKeys,
		}), console.New(console.Config{Service: m.service, Logger: cfg.Logger, SecureCookies: cfg.SecureCookies, ClientIP: clients.IP, PublicURL: public, Brand: cfg.Brand}),
			scim.New(scim.Config{Service: m.service, Keys: m.verifier, Logger: cfg.Logger, ClientIP: clients.IP, BaseURL: public + scim.Prefix})},
		Ready:          readiness(guarded),
		Gatherer:       gatherer,
		Metrics:        server.NewMetrics(reg),
		TrustedOrigins: cfg.TrustedOrigins,
		HSTS:           cfg.SecureCookies,
		DrainDelay:     cfg.DrainDelay,
	})
	if err != nil {
		m.closeMetrics()
		ln.Close()
		store.Close()
		return nil, err
	}
	// The owner is created only now that the address is bound and the
	// server built: a start that fails (a busy port, a bad flag) leaves
	// the store empty, and the next start creates the owner and prints its
	// password, instead of an owner nobody was ever told the password of.
	boot, err := m.bootstrap(ctx)
	if err != nil {
		m.closeMetrics()
		ln.Close()
		store.Close()
		return nil, err
	}
	m.newJobs()
	// The address is bound: connections queue until Run serves them, so
	// the URL can be announced now.
	fmt.Fprintf(cfg.Stdout, "%slatchkey is listening on %s\n", boot, m.URL())
	if m.metrics != nil {
		fmt.Fprintf(cfg.Stdout, "metrics on %s/metrics\n", m.MetricsURL())
	}
	return m, nil
}

// closeMetrics releases the metrics listener of a start that failed.
func (m *Main) closeMetrics() {
	if m.metrics != nil {
		m.metrics.ln.Close()
	}
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

// cacheMaxAge is how long a verify cache entry is trusted without a store
// read, or without the invalidation channel confirming delivery
// (confirmChannel), when several instances share a PostgreSQL store: the
// bound on how late a revocation whose notification was lost can take
// effect (the promise is one second).
const cacheMaxAge = 500 * time.Millisecond

// invalidationChannel is where the database announces changes (see the
// PostgreSQL migration 00003).
const invalidationChannel = postgres.InvalidationChannel

// onInvalidation applies a change announced by the database, made by this
// instance or another.
func (m *Main) onInvalidation(payload string) {
	switch kind, rest, _ := strings.Cut(payload, ":"); kind {
	case "hash":
		m.knownPrefix(rest)
	case "sync":
		m.fences.arrived(payload)
	case "key":
		m.verifier.InvalidateKey(rest)
	case "owner":
		ws, user, _ := strings.Cut(rest, ":")
		m.verifier.InvalidateOwner(ws, user)
	default:
		m.verifier.InvalidateAll()
	}
}

// bootstrap creates a workspace and an owner on an empty store and returns
// how to log in; the password is shown this once and never stored in clear.
func (m *Main) bootstrap(ctx context.Context) (string, error) {
	done, err := m.store.Initialized(ctx)
	if err != nil {
		return "", err
	}
	if done {
		return m.neverLoggedIn(ctx)
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

// publicURL is where people reach this server, for links in mail: the
// configured public URL, else the listening address.
func (m *Main) publicURL() string {
	if m.cfg.PublicURL != "" {
		return strings.TrimRight(m.cfg.PublicURL, "/")
	}
	return m.URL()
}

// Run serves until ctx is cancelled, then drains requests in flight and
// flushes usage counters, so SIGTERM loses nothing.
func (m *Main) Run(ctx context.Context) error {
	m.log.Info("listening", "addr", m.server.Addr())

	vctx, stopVerifier := context.WithCancel(context.WithoutCancel(ctx))
	verifierDone := make(chan struct{})
	go func() {
		defer close(verifierDone)
		if err := m.verifier.Run(vctx); err != nil {
			m.log.Error("the last usage flush failed", "err", err.Error())
		}
	}()
	listenDone := make(chan struct{})
	if m.pg != nil {
		// Until the first subscription is up, invalidations from other
		// instances could be missed: verify from the store meanwhile.
		m.verifier.SetTrusted(false)
		go func() {
			defer close(listenDone)
			if err := m.pg.Listen(vctx, invalidationChannel, m.onInvalidation, func(up bool) {
				if !up && vctx.Err() == nil { // not when shutting down
					m.log.Warn("lost the invalidation channel: verifying from the store until it is back")
				}
				m.verifier.SetTrusted(up)
				if up {
					m.listenUp.Set(1)
				} else {
					m.listenUp.Set(0)
				}
			}); err != nil {
				m.log.Error("invalidation listener stopped", "err", err.Error())
			}
		}()
	} else {
		close(listenDone)
	}
	go gctune.Run(vctx, gctune.Floor, time.Second)
	confirmDone := make(chan struct{})
	if m.pg != nil && !m.cfg.DisableVerifyCache {
		go func() {
			defer close(confirmDone)
			m.confirmChannel(vctx)
		}()
	} else {
		close(confirmDone)
	}
	waitBackground := m.startBackground(vctx)
	if m.metrics != nil {
		// Scrapes go on while the main listener drains; it stops last.
		go m.metrics.serve()
		defer m.metrics.shutdown()
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- m.server.Serve() }()

	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
	}
	m.log.Info("shutting down: /readyz answers 503; serving on during the drain delay", "drain_delay", m.cfg.DrainDelay.String())
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.cfg.DrainDelay+m.cfg.ShutdownGrace)
	defer cancel()
	if e := m.server.Shutdown(sctx); e != nil {
		err = errors.Join(err, e)
	}
	stopVerifier() // also stops the jobs and the sender; Run flushes the last usage counters before it returns
	<-verifierDone
	<-listenDone
	<-confirmDone
	waitBackground()
	return err
}

// Close releases the store. Call it after Run has returned.
func (m *Main) Close() error {
	var err error
	m.closeOnce.Do(func() {
		if m.keyring != nil {
			m.keyring.Close()
		}
		err = m.store.Close()
	})
	return err
}
