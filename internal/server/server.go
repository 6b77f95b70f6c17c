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
	"sync"
	"sync/atomic"
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
	// DrainDelay is how long Shutdown keeps serving as usual after /readyz
	// turned 503, so load balancers stop sending before connections close.
	DrainDelay time.Duration
}

// Server is the HTTP server.
type Server struct {
	srv        *http.Server
	ln         net.Listener
	log        *slog.Logger
	drainDelay time.Duration

	// draining turns /readyz to 503; closing adds Connection: close to
	// every answer, so each keep-alive connection ends after its current
	// request instead of being cut while the client may be sending on it.
	draining, closing atomic.Bool
	// conns maps each open net.Conn to its *connInfo. A sync.Map, not a
	// map under a mutex: every request moves its connection from idle to
	// active and back, and a lock shared by every connection would be
	// contended on the verify path.
	conns sync.Map
}

// connInfo is a connection's state and since when it is in it.
type connInfo struct {
	state atomic.Int32 // http.ConnState
	since atomic.Int64 // UnixNano
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
	s := &Server{ln: ln, log: log, drainDelay: cfg.DrainDelay}
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.draining.Load() {
			writePlain(w, http.StatusServiceUnavailable, "shutting down\n")
			return
		}
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

	s.srv = &http.Server{
		Handler:           s.closeWhenStopping(securityHeaders(cfg.HSTS, knownMethods(root))),
		ConnState:         s.track,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// No server-wide WriteTimeout: it costs a deadline per request on
		// the verify path, whose answers are a few hundred bytes that fit
		// in the socket buffer. writeDeadline bounds everything else.
		IdleTimeout:    120 * time.Second,
		MaxHeaderBytes: 64 << 10,
		ErrorLog:       slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	return s, nil
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

// Shutdown stops the server without failing a request a client already
// sent: /readyz answers 503 at once; requests are served as usual for
// DrainDelay, while load balancers take the instance out; then every answer
// carries Connection: close, so each keep-alive connection ends after the
// request it carries, and connections that stay idle or never send a
// request are closed; Shutdown returns once requests in flight are
// answered, or when ctx ends.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	if s.drainDelay > 0 {
		t := time.NewTimer(s.drainDelay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
		}
	}
	s.closing.Store(true)
	// Busy connections close after their next answer; give them a moment
	// to carry it, rather than closing one while its client writes to it.
	// A connection idle for a while is one its client no longer uses (the
	// load balancer took the instance out): it need not be waited for.
	deadline := time.Now().Add(closeWindow)
	for time.Now().Before(deadline) && ctx.Err() == nil && s.busy(idleQuiet) > 0 {
		time.Sleep(20 * time.Millisecond)
	}
	done := make(chan error, 1)
	go func() { done <- s.srv.Shutdown(ctx) }()
	// http.Server.Shutdown waits 5 seconds before it counts a connection
	// that never sent a request as idle; close those sooner.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			return err
		case <-tick.C:
			s.closeSilent(silentAfter)
		}
	}
}

// closeWindow is how long Shutdown lets keep-alive connections close by
// themselves after their next answer; silentAfter is how long a new
// connection may stay without a request once the server stops.
// A connection idle for idleQuiet is no longer in use.
const (
	closeWindow = time.Second
	silentAfter = 500 * time.Millisecond
	idleQuiet   = 250 * time.Millisecond
)

// Draining reports whether Shutdown has begun.
func (s *Server) Draining() bool { return s.draining.Load() }

func (s *Server) track(c net.Conn, st http.ConnState) {
	if st == http.StateClosed || st == http.StateHijacked {
		s.conns.Delete(c)
		return
	}
	if st == http.StateNew {
		ci := new(connInfo)
		ci.since.Store(time.Now().UnixNano())
		s.conns.Store(c, ci)
		return
	}
	v, ok := s.conns.Load(c)
	if !ok {
		return // closed meanwhile (Shutdown closes idle connections): not to be brought back
	}
	ci := v.(*connInfo)
	ci.since.Store(time.Now().UnixNano())
	ci.state.Store(int32(st))
}

// each calls fn with every open connection, its state and for how long it
// has been in it.
func (s *Server) each(fn func(c net.Conn, st http.ConnState, d time.Duration)) {
	now := time.Now().UnixNano()
	s.conns.Range(func(k, v any) bool {
		ci := v.(*connInfo)
		fn(k.(net.Conn), http.ConnState(ci.state.Load()), time.Duration(now-ci.since.Load()))
		return true
	})
}

// busy counts the connections carrying a request or idle for less than
// quiet.
func (s *Server) busy(quiet time.Duration) int {
	n := 0
	s.each(func(_ net.Conn, st http.ConnState, d time.Duration) {
		if st == http.StateActive || st == http.StateIdle && d < quiet {
			n++
		}
	})
	return n
}

// closeSilent closes connections that have sent nothing for d.
func (s *Server) closeSilent(silent time.Duration) {
	s.each(func(c net.Conn, st http.ConnState, d time.Duration) {
		if st == http.StateNew && d >= silent {
			_ = c.Close()
		}
	})
}

// closeWhenStopping adds Connection: close to every answer once Shutdown
// has passed the drain delay; net/http then closes the connection after
// the answer. One atomic load per request, the verify path included.
func (s *Server) closeWhenStopping(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.closing.Load() {
			w.Header()["Connection"] = connectionClose
		}
		next.ServeHTTP(w, r)
	})
}

var connectionClose = []string{"close"}

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
