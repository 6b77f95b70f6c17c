package verify

import (
	"errors"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
)

// codes lists every outcome, in the order of the per-code tables below;
// index 0 is "valid".
var codes = [...]latchkey.VerifyCode{"", latchkey.KeyMissing, latchkey.KeyMalformed,
	latchkey.KeyInvalid, latchkey.KeyExpired, latchkey.KeyRevoked, latchkey.OwnerDeprovisioned,
	latchkey.InsufficientScope, latchkey.WrongType, latchkey.WrongEnvironment,
	latchkey.RateLimited, Unavailable, latchkey.IPNotAllowed, latchkey.KeyDisabled, latchkey.UsageExceeded}

// codeIndex is a switch rather than a map so the hot path hashes nothing.
func codeIndex(c latchkey.VerifyCode) int {
	switch c {
	case "":
		return 0
	case latchkey.KeyMissing:
		return 1
	case latchkey.KeyMalformed:
		return 2
	case latchkey.KeyInvalid:
		return 3
	case latchkey.KeyExpired:
		return 4
	case latchkey.KeyRevoked:
		return 5
	case latchkey.OwnerDeprovisioned:
		return 6
	case latchkey.InsufficientScope:
		return 7
	case latchkey.WrongType:
		return 8
	case latchkey.WrongEnvironment:
		return 9
	case latchkey.RateLimited:
		return 10
	case latchkey.IPNotAllowed:
		return 12
	case latchkey.KeyDisabled:
		return 13
	case latchkey.UsageExceeded:
		return 14
	}
	return 11
}

// metrics resolves every label once, at construction: a label lookup per
// request would cost more than the decision itself.
type metrics struct {
	results  [len(codes)]prometheus.Counter
	duration prometheus.Histogram
	// Cache lookups by result: hit (a fresh entry), negative_hit (a hash
	// the store said it does not know), miss (read from the store), bypass
	// (the cache is off or untrusted while invalidations may be missed).
	// refresh (a hit past Config.Reread, read again in the background),
	// awaited (a hit once the invalidation channel's late word came).
	cacheHit, cacheNegativeHit, cacheMiss, cacheBypass, cacheRefresh, cacheAwaited prometheus.Counter
	// fold times each complete fold of the usage log (Verifier.Fold).
	fold prometheus.Histogram
}

func (m *metrics) init(reg prometheus.Registerer, c *cache) {
	results := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "latchkey_verify_results_total",
		Help: "Key verifications by result code (valid, or the reason for refusal).",
	}, []string{"code"})
	duration := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "latchkey_verify_duration_seconds",
		Help: "Time to decide a key verification, store lookups included.",
		// 1µs to about 250ms: a warm decision takes about a microsecond.
		Buckets: prometheus.ExponentialBuckets(1e-6, 4, 10),
	})
	entries := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "latchkey_verify_cache_keys",
		Help: "Keys held in this instance's verification cache.",
	}, func() float64 { return float64(c.len()) })
	lookups := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "latchkey_verify_cache_lookups_total",
		Help: "Verify cache lookups by result: hit, negative_hit (a key the store does not know), miss (read from the store), bypass (cache off, or untrusted while the invalidation channel is down), refresh (a hit read again in the background, once a minute per key on PostgreSQL), awaited (a hit once the invalidation channel's late confirmation came, instead of a store read).",
	}, []string{"result"})
	fold := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "latchkey_usage_fold_duration_seconds",
		Help: "Time to fold the usage log into the daily counters, per complete fold (about once a minute per instance).",
		// 1ms to about 17 minutes: a restart's first fold in a large store takes minutes.
		Buckets: prometheus.ExponentialBuckets(1e-3, 4, 11),
	})
	if reg != nil {
		fold = register(reg, fold)
		results = register(reg, results)
		duration = register(reg, duration)
		register[prometheus.Collector](reg, entries)
		lookups = register(reg, lookups)
	}
	m.cacheHit = lookups.WithLabelValues("hit")
	m.cacheNegativeHit = lookups.WithLabelValues("negative_hit")
	m.cacheMiss = lookups.WithLabelValues("miss")
	m.cacheBypass = lookups.WithLabelValues("bypass")
	m.cacheRefresh = lookups.WithLabelValues("refresh")
	m.cacheAwaited = lookups.WithLabelValues("awaited")
	for i, code := range codes {
		label := string(code)
		if label == "" {
			label = "valid"
		}
		m.results[i] = results.WithLabelValues(label)
	}
	m.duration = duration
	m.fold = fold
}

// register adopts an already registered collector of the same name, so two
// Verifiers (tests, a restart of the wiring) can share one registry.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
	}
	return c
}

func (m *metrics) observe(code latchkey.VerifyCode, start time.Time) {
	m.results[codeIndex(code)].Inc()
	m.duration.Observe(time.Since(start).Seconds())
}
