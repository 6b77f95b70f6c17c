package main

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/webhook"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metricsListener serves /metrics (and, when asked, net/http/pprof) on its
// own address, so the main listener, reachable by every client of the
// verify endpoints, exposes neither.
type metricsListener struct {
	srv *http.Server
	ln  net.Listener
}

func newMetricsListener(addr string, pprofOn bool, g prometheus.Gatherer) (*metricsListener, error) {
	if pprofOn {
		if err := requireLoopback("--metrics-addr with --metrics-pprof", addr); err != nil {
			return nil, err
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listening on %s for metrics: %w", addr, err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(g, promhttp.HandlerOpts{}))
	if pprofOn {
		registerPprof(mux)
	}
	return &metricsListener{
		srv: &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute},
		ln:  ln,
	}, nil
}

func (l *metricsListener) serve() { _ = l.srv.Serve(l.ln) }

func (l *metricsListener) shutdown() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = l.srv.Shutdown(ctx)
}

// MetricsURL is the base URL of the separate metrics listener ("" without
// --metrics-addr).
func (m *Main) MetricsURL() string {
	if m.metrics == nil {
		return ""
	}
	return "http://" + m.metrics.ln.Addr().String()
}

// webhookStore counts webhook deliveries by outcome as the sender records
// them: delivered, retry, gave_up. The sender itself (internal/webhook)
// stays free of metrics; every attempt passes through this one call.
type webhookStore struct {
	webhook.Store
	delivered, retried, gaveUp prometheus.Counter
}

func newWebhookStore(s webhook.Store, reg prometheus.Registerer) *webhookStore {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "latchkey_webhook_deliveries_total",
		Help: "Webhook delivery attempts by outcome: delivered, retry (failed, tried again later), gave_up (failed for the last time).",
	}, []string{"outcome"})
	reg.MustRegister(v)
	return &webhookStore{Store: s, delivered: v.WithLabelValues("delivered"), retried: v.WithLabelValues("retry"), gaveUp: v.WithLabelValues("gave_up")}
}

func (w *webhookStore) RecordWebhookAttempt(ctx context.Context, a latchkey.WebhookAttempt, delivered bool, retryAt *time.Time) error {
	err := w.Store.RecordWebhookAttempt(ctx, a, delivered, retryAt)
	if err != nil {
		return err
	}
	switch {
	case delivered:
		w.delivered.Inc()
	case retryAt != nil:
		w.retried.Inc()
	default:
		w.gaveUp.Inc()
	}
	return nil
}

// listenerGauge is 1 while the PostgreSQL LISTEN connection that carries
// invalidations between instances is up, 0 while the instance verifies
// from the store instead.
// confirmHistogram times the invalidation channel's confirmations, from
// sending the fence to hearing it back.
func confirmHistogram(reg prometheus.Registerer) prometheus.Histogram {
	h := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "latchkey_invalidation_confirm_seconds",
		Help:    "Round trip of the invalidation channel's confirmations (PostgreSQL only): a fence sent to this instance's own LISTEN connection, until it arrives.",
		Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12), // 0.1ms to about 2.4s
	})
	reg.MustRegister(h)
	return h
}

// confirmedGauge reports how old the invalidation channel's last
// confirmation is: above half a second, cached keys are read from the
// store again.
func confirmedGauge(reg prometheus.Registerer, started time.Time, last func() time.Time) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "latchkey_invalidation_confirmed_age_seconds",
		Help: "Seconds since the last fence on the invalidation channel that came back was sent (PostgreSQL only); above 0.5 cached keys are read from the store again.",
	}, func() float64 {
		t := last()
		if t.IsZero() {
			t = started
		}
		return time.Since(t).Seconds()
	}))
}

func listenerGauge(reg prometheus.Registerer) prometheus.Gauge {
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Name: "latchkey_invalidation_listener_up",
		Help: "1 while the PostgreSQL LISTEN connection carrying cache invalidations between instances is up (PostgreSQL only).",
	})
	reg.MustRegister(g)
	return g
}
