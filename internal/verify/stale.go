package verify

import (
	"context"
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
)

// errStale is lookup's answer when the store failed and the cache's last
// answer for the key is recent enough to decide on (Config.ServeStale).
var errStale = errors.New("verify: decided from the store's last answer")

// lookupFailed decides what a failed store read means for h. Only an
// outage (the store unreachable or too slow, never a missing key) falls
// back on the cache, and only on an entry the store returned at most
// ServeStale ago: that bounds how long a revocation the instance cannot
// hear about may go unnoticed.
func (v *Verifier) lookupFailed(h *[32]byte, e *entry, err error) error {
	if v.noCache || !outage(err) {
		return err
	}
	// Read again: while untrusted lookup did not read the cache at all.
	if v.cache.get(h, e, nil) != found {
		*e = entry{}
		return err
	}
	if v.now().UnixNano()-e.fetched > v.serveStale {
		*e = entry{}
		return err
	}
	v.stale.decisions.Inc()
	return errStale
}

// outage reports whether err means the store could not answer, as opposed
// to an answer (not found) or a bug.
func outage(err error) bool {
	return latchkey.ErrorCode(err) == latchkey.EUNAVAILABLE || errors.Is(err, context.DeadlineExceeded)
}

// staleMetrics counts decisions made while the store was unreachable.
type staleMetrics struct {
	decisions prometheus.Counter
}

func (m *staleMetrics) init(reg prometheus.Registerer) {
	c := prometheus.NewCounter(prometheus.CounterOpts{
		Name: "latchkey_verify_stale_total",
		Help: "Verifications decided from the store's last answer for the key because the store could not be reached (--serve-stale-on-outage).",
	})
	if reg != nil {
		c = register(reg, c)
	}
	m.decisions = c
}

// forget drops the entry cached under h, if any.
func (c *cache) forget(h *[32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i, ok := c.find(h); ok {
		c.remove(i)
	}
}
