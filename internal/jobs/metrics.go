package jobs

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Job names and run outcomes: the only label values the job metrics take.
const (
	jobNotices   = "expiry_notices"
	jobExpired   = "expired_keys"
	jobDeletions = "deletions"

	outcomeOK      = "ok"
	outcomeError   = "error"
	outcomeSkipped = "skipped" // another instance holds the lock
)

var jobNames = []string{jobNotices, jobExpired, jobDeletions}

// metrics counts job runs by job and outcome and remembers each job's last
// success, for an alert on a job that stopped succeeding.
type metrics struct {
	runs        *prometheus.CounterVec
	lastSuccess *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "latchkey_job_runs_total",
			Help: "Background job runs by job (expiry_notices, expired_keys, deletions) and outcome (ok, error, skipped: another instance held the lock).",
		}, []string{"job", "outcome"}),
		lastSuccess: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "latchkey_job_last_success_timestamp_seconds",
			Help: "Unix time of the last run of each background job that succeeded on this instance.",
		}, []string{"job"}),
	}
	// Every series exists from the start, so rate() and absence alerts
	// work before the first failure.
	for _, j := range jobNames {
		for _, o := range []string{outcomeOK, outcomeError, outcomeSkipped} {
			m.runs.WithLabelValues(j, o)
		}
	}
	if reg != nil {
		reg.MustRegister(m.runs, m.lastSuccess)
	}
	return m
}

func (m *metrics) ran(job string, err error) {
	if err != nil {
		m.runs.WithLabelValues(job, outcomeError).Inc()
		return
	}
	m.runs.WithLabelValues(job, outcomeOK).Inc()
	m.lastSuccess.WithLabelValues(job).Set(float64(time.Now().Unix()))
}

func (m *metrics) skipped() {
	for _, j := range jobNames {
		m.runs.WithLabelValues(j, outcomeSkipped).Inc()
	}
}
