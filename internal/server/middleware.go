package server

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// requestID gives every request an id, echoed in X-Request-Id and quoted
// in 500 answers so a report can be matched to a log line.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b [8]byte
		_, _ = rand.Read(b[:])
		w.Header().Set("X-Request-Id", hex.EncodeToString(b[:]))
		next.ServeHTTP(w, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
	bytes  int
}

func (s *statusWriter) WriteHeader(code int) {
	if s.status == 0 {
		s.status = code
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusWriter) Write(b []byte) (int, error) {
	if s.status == 0 {
		s.status = http.StatusOK
	}
	n, err := s.ResponseWriter.Write(b)
	s.bytes += n
	return n, err
}

func (s *statusWriter) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// accessLog writes one JSON line per request. It logs the path without the
// query string and no header at all, so no token, password or cookie can
// reach the log.
func accessLog(log *slog.Logger, m *Metrics, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &statusWriter{ResponseWriter: w}
		next.ServeHTTP(sw, r)
		if sw.status == 0 {
			sw.status = http.StatusOK
		}
		d := time.Since(start)
		pattern := r.Pattern
		if pattern == "" {
			pattern = "unmatched"
		}
		method := methodLabel(r.Method)
		if m != nil {
			// Every label comes from a closed set: the methods below, the
			// mux's own patterns, three-digit statuses.
			m.requests.WithLabelValues(method, pattern, statusLabel(sw.status)).Inc()
			m.duration.WithLabelValues(method, pattern).Observe(d.Seconds())
		}
		log.LogAttrs(r.Context(), slog.LevelInfo, "request",
			slog.String("request_id", w.Header().Get("X-Request-Id")),
			slog.String("method", method),
			slog.String("path", r.URL.Path),
			slog.Int("status", sw.status),
			slog.Int("bytes", sw.bytes),
			slog.Duration("duration", d),
			slog.String("remote", r.RemoteAddr),
		)
	})
}

// methods are the request methods latchkey answers; any other is refused
// by knownMethods before it reaches a handler, a log line or a metric.
var methods = map[string]bool{
	http.MethodGet: true, http.MethodHead: true, http.MethodPost: true, http.MethodPut: true,
	http.MethodPatch: true, http.MethodDelete: true, http.MethodOptions: true,
}

// methodLabel is r.Method when it is one of methods, else "other".
func methodLabel(m string) string {
	if methods[m] {
		return m
	}
	return "other"
}

// statusLabel is the status code as three digits, "other" outside 100–599.
func statusLabel(code int) string {
	if code < 100 || code > 599 {
		return "other"
	}
	return strconv.Itoa(code)
}

// knownMethods answers 501 to a method latchkey does not implement,
// cheaply, before any routing, logging or counting: a random method per
// request used to create a metric series each (3,000 requests with 60 KB
// methods made /metrics 3.3 GB).
func knownMethods(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !methods[r.Method] {
			w.Header().Set("Connection", "close")
			writePlain(w, http.StatusNotImplemented, "method not implemented\n")
			return
		}
		next.ServeHTTP(w, r)
	})
}

// securityHeaders sets the headers every answer carries, whichever surface
// writes it: nosniff, so no browser reads a JSON error or a plain-text
// answer as HTML or script; and, behind TLS (secure cookies), HSTS.
func securityHeaders(hsts bool, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = nosniff
		if hsts {
			h["Strict-Transport-Security"] = hstsValue
		}
		next.ServeHTTP(w, r)
	})
}

// The header values are shared slices, set without canonicalising or
// allocating: securityHeaders runs on the verify path too.
var (
	nosniff   = []string{"nosniff"}
	hstsValue = []string{"max-age=31536000; includeSubDomains"}
)

// recoverer turns a panic into a 500 in the API's error shape and a log
// line, instead of a dropped connection.
func recoverer(log *slog.Logger, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				rid := w.Header().Get("X-Request-Id")
				log.Error("panic", "request_id", rid, "path", r.URL.Path, "panic", v)
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(http.StatusInternalServerError)
				_, _ = w.Write([]byte(`{"error":{"code":"internal","message":"internal error; quote request id ` + rid + `","details":{"request_id":"` + rid + `"}}}` + "\n"))
			}
		}()
		next.ServeHTTP(w, r)
	})
}

// Metrics are the HTTP metrics of the general (non-verify) routes.
type Metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
}

// NewMetrics registers the HTTP metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_http_requests_total", Help: "HTTP requests by method, route and status.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "latchkey_http_request_duration_seconds", Help: "HTTP request latency by method and route.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.duration)
	return m
}
