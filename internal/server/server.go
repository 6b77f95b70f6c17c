// Package server is latchkey's HTTP front: one mux that mounts the
// management API, the verify endpoints and the operational endpoints, with
// the middleware every request needs (request id, access log, recovery,
// cross-origin protection, metrics).
package server

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Verifier is what the server needs of the verify hot path.
type Verifier interface {
	PostHandler() http.Handler
	ForwardAuthHandler() http.Handler
}

// Mounter is a surface that registers its routes on the mux (the API, later the console and SCIM).
type Mounter interface {
	Register(mux *http.ServeMux)
}

// Config configures the server.
type Config struct {
	Addr string
	// Listener, when set, is used instead of listening on Addr: the
	// caller bound it first to know the address.
	Listener net.Listener
	Logger   *slog.Logger
	Verifier Verifier
	Surfaces []Mounter
	// Ready reports whether the server can serve (the store answers).
	Ready    func(ctx context.Context) error
	Gatherer prometheus.Gatherer
	Metrics  *Metrics
	// TrustedOrigins may make cross-origin state-changing requests with cookies.
	TrustedOrigins []string
	// HSTS sends Strict-Transport-Security on every answer; set it when
	// latchkey is served over TLS (with secure cookies).
	HSTS bool
}

// Server is the HTTP server.
type Server struct {
	srv *http.Server
	ln  net.Listener
	log *slog.Logger
}

// New builds the server and binds its address, so that Addr is known
// before Serve (tests listen on 127.0.0.1:0).
func New(cfg Config) (*Server, error) {
	ln := cfg.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", cfg.Addr); err != nil {
			return nil, err
		}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	mux := http.NewServeMux()
	for _, s := range cfg.Surfaces {
		s.Register(mux)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		writePlain(w, http.StatusOK, "ok\n")
	})
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if cfg.Ready != nil {
			if err := cfg.Ready(ctx); err != nil {
				log.Warn("not ready", "err", err.Error())
				writePlain(w, http.StatusServiceUnavailable, "not ready\n")
				return
			}
		}
		writePlain(w, http.StatusOK, "ready\n")
	})
	if cfg.Gatherer != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(cfg.Gatherer, promhttp.HandlerOpts{}))
	}

	cop := http.NewCrossOriginProtection()
	for _, o := range cfg.TrustedOrigins {
		if err := cop.AddTrustedOrigin(o); err != nil {
			ln.Close()
			return nil, err
		}
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(`{"error":{"code":"forbidden","message":"cross-origin request refused: state-changing calls must come from latchkey's own origin","details":{}}}` + "\n"))
	}))
	general := writeDeadline(requestID(accessLog(log, cfg.Metrics, recoverer(log, cop.Handler(mux)))))

	// The verify endpoints skip the general middleware: a log line or a
	// request id per call is what would decide their throughput. They keep
	// recovery; the verifier counts its own results and latency.
	root := http.NewServeMux()
	if cfg.Verifier != nil {
		root.Handle("POST /v1/keys/verify", recoverer(log, cfg.Verifier.PostHandler()))
		root.Handle("GET /v1/verify", recoverer(log, cfg.Verifier.ForwardAuthHandler()))
	}
	root.Handle("/", general)

	srv := &http.Server{
		Handler:           securityHeaders(cfg.HSTS, knownMethods(root)),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// No server-wide WriteTimeout: it costs a deadline per request on
		// the verify path, whose answers are a few hundred bytes that fit
		// in the socket buffer. writeDeadline bounds everything else.
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return &Server{srv: srv, ln: ln, log: log}, nil
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Serve serves until Shutdown; it returns nil after a clean shutdown.
func (s *Server) Serve() error {
	if err := s.srv.Serve(s.ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}

// Shutdown stops accepting connections and waits for requests in flight.
func (s *Server) Shutdown(ctx context.Context) error { return s.srv.Shutdown(ctx) }

func writePlain(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// writeTimeout bounds how long answering one management or console
// request may take, so a client that stops reading cannot hold it.
const writeTimeout = 30 * time.Second

func writeDeadline(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = http.NewResponseController(w).SetWriteDeadline(time.Now().Add(writeTimeout))
		next.ServeHTTP(w, r)
	})
}
