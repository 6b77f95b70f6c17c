package main

import (
	"os/signal"
	"syscall"
	"time"

	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/token"
	"github.com/spf13/cobra"
)

func newServeCmd() *cobra.Command {
	var cfg Config
	var pprofAddr string
	verifyCache, migrate := true, true
	c := &cobra.Command{
		Use:   "serve",
		Short: "Run the latchkey server (API, verify endpoints, console)",
		Long: `Run the latchkey server. On an empty store it creates a workspace and an
owner and prints the URL and a one-time password. SIGTERM or SIGINT turns /readyz
to 503 at once, serves on for --drain-delay, closes keep-alive connections
after their current request, waits for requests in flight, flushes usage
counters and exits.

Every flag may also be set as LATCHKEY_<FLAG>, e.g. LATCHKEY_ADDR=0.0.0.0:8080.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(c.Context(), syscall.SIGINT, syscall.SIGTERM)
			defer stop()
			cfg.Stdout = c.OutOrStdout()
			for name, d := range map[string]time.Duration{"--usage-flush": cfg.FlushEvery, "--usage-fold": cfg.FoldEvery} {
				if d <= 0 {
					return usagef("%s %s: want a positive duration, such as 5s or 1m", name, d)
				}
			}
			cfg.DisableVerifyCache = !verifyCache
			cfg.SkipMigrate = !migrate
			cfg.MaxKeysPerMember, cfg.MaxKeysPerWorkspace = noCapIfZero(cfg.MaxKeysPerMember), noCapIfZero(cfg.MaxKeysPerWorkspace)
			m, err := NewMain(ctx, cfg)
			if err != nil {
				return err
			}
			defer m.Close()
			if pprofAddr != "" {
				stopProfiling, err := serveProfiling(pprofAddr, c.ErrOrStderr())
				if err != nil {
					return err
				}
				defer stopProfiling()
			}
			return m.Run(ctx)
		},
	}
	f := c.Flags()
	f.StringVar(&cfg.DataDir, "data-dir", "./latchkey-data", "directory of the SQLite store (when no --database-url)")
	f.StringVar(&cfg.DatabaseURL, "database-url", "", "PostgreSQL URL (postgres://user@host/db): the store of several instances")
	f.StringSliceVar(&cfg.VaultKeyURLs, "vault-key-url", nil, "keeper of the vaults' master key: base64key://, awskms://, gcpkms://, azurekeyvault://, hashivault:// (extra URLs, comma-separated, only unwrap); default the master keyring (--master-key-file); on PostgreSQL vaults need one of the two")
	fromEnv(f, "vault-key-url")
	f.BoolVar(&migrate, "migrate", true, "apply database migrations at start")
	f.StringVar(&cfg.Addr, "addr", "127.0.0.1:8080", "address to listen on (HOST:PORT)")
	f.StringVar(&cfg.CatalogFile, "catalog", "", "key type catalog file (JSON); the built-in one by default")
	f.StringVar(&cfg.TokenPrefix, "token-prefix", token.DefaultPrefix, "prefix of issued tokens")
	f.StringVar(&cfg.OwnerEmail, "owner-email", "admin@localhost", "email of the owner created on an empty store")
	f.BoolVar(&cfg.SecureCookies, "secure-cookies", false, "mark session cookies Secure (set when served over TLS)")
	f.StringSliceVar(&cfg.TrustedOrigins, "trusted-origins", nil, "origins allowed to make cross-origin state-changing requests")
	f.StringSliceVar(&cfg.TrustedProxies, "trusted-proxies", nil, "reverse proxies (CIDR or address) whose X-Forwarded-For names the client")
	f.DurationVar(&cfg.FlushEvery, "usage-flush", 5*time.Second, "how often usage counters are written to the store")
	f.DurationVar(&cfg.FoldEvery, "usage-fold", time.Minute, "how often the usage written is folded into the daily counters and keys' last_used_at")
	f.DurationVar(&cfg.ShutdownGrace, "shutdown-grace", 15*time.Second, "how long SIGTERM waits for requests in flight, after the drain delay")
	f.DurationVar(&cfg.DrainDelay, "drain-delay", 5*time.Second, "on SIGTERM, how long to keep serving after /readyz turned 503, for load balancers to stop sending (0: none)")
	f.StringVar(&cfg.SMTPURL, "smtp-url", "", "deliver mail over SMTP: smtp://user:password@host:587 (or smtps://); without it mail stays in the console's outbox")
	f.StringVar(&cfg.PublicURL, "public-url", "", "the URL people reach latchkey at (https://keys.example.com), for links in mail, the console, the API and SCIM, and for passkeys (its host name is their relying party; an IP address turns them off); the listening address by default")
	f.IntVar(&cfg.PasswordHashes, "password-hashes", password.DefaultConcurrency(), "how many password hashes (64 MiB each) may run at once; more logins at once answer 429")
	signInFlags(f, &cfg.SignIn)
	f.StringVar(&cfg.MailFrom, "mail-from", "latchkey@localhost", "sender address of the mail latchkey sends")
	f.IntVar(&cfg.MaxKeysPerMember, "max-keys-per-member", manage.DefaultMaxKeysPerMember, "most personal keys one member may have in a workspace, revoked ones included until deleted (0: no cap)")
	f.IntVar(&cfg.MaxKeysPerWorkspace, "max-keys-per-workspace", manage.DefaultMaxKeysPerWorkspace, "most keys one workspace may have, revoked ones included until deleted (0: no cap)")
	fromEnv(f, "max-keys-per-member", "max-keys-per-workspace")
	f.StringVar(&cfg.LeakVerifierKeys, "leak-verifier-keys", "", "GitHub's secret-scanning public keys (the JSON of api.github.com/meta/public_keys/secret_scanning, saved as is): POST /v1/leaks accepts reports they sign")
	fromEnv(f, "leak-verifier-keys")
	cfg.Failures.register(f)
	registerPlatformFlags(f, &cfg)
	f.BoolVar(&cfg.WebhooksAllowPrivate, "webhooks-allow-private", false, "let webhooks reach loopback, private, link-local and other non-public addresses (receivers on your own network)")
	f.DurationVar(&cfg.JobsInterval, "jobs-interval", time.Minute, "how often the lifecycle jobs run (expiry notices, deletions)")
	_ = f.MarkHidden("jobs-interval")
	// Benchmark-only knobs (bench/), hidden from --help: the cold path
	// without the verify cache, and CPU profiles of a server under load.
	f.BoolVar(&verifyCache, "verify-cache", true, "cache verified keys (false: every verification reads the store)")
	_ = f.MarkHidden("verify-cache")
	f.StringVar(&pprofAddr, "pprof-addr", "", "serve net/http/pprof on its own listener at this loopback address (HOST:PORT), for CPU and heap profiles")
	f.StringVar(&cfg.MetricsAddr, "metrics-addr", "", "serve /metrics on its own listener at HOST:PORT, and no longer on --addr")
	f.BoolVar(&cfg.MetricsPprof, "metrics-pprof", false, "also serve net/http/pprof on --metrics-addr (which must then be a loopback address)")
	fromEnv(f, "data-dir", "database-url", "migrate", "addr", "catalog", "token-prefix", "owner-email", "secure-cookies", "trusted-origins", "trusted-proxies", "usage-flush", "usage-fold", "shutdown-grace", "drain-delay", "smtp-url", "mail-from", "public-url", "webhooks-allow-private", "password-hashes", "jobs-interval", "pprof-addr", "metrics-addr", "metrics-pprof", "master-key-file", "dns-resolver")
	return c
}

// noCapIfZero turns a flag's 0 ("no cap") into manage.Config's negative.
func noCapIfZero(n int) int {
	if n == 0 {
		return -1
	}
	return n
}
