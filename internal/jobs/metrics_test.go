package jobs_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey/internal/jobs"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// series reads every series of one metric as "label=value,..." → value.
func series(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				key += l.GetName() + "=" + l.GetValue() + ","
			}
			switch {
			case m.Counter != nil:
				out[key] = m.GetCounter().GetValue()
			case m.Gauge != nil:
				out[key] = m.GetGauge().GetValue()
			}
		}
	}
	return out
}

// TestJobRunsAreCountedByOutcome: a run that works counts ok for every job
// and sets its last success; a run against a store that fails counts error
// and sets no last success.
func TestJobRunsAreCountedByOutcome(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	reg := prometheus.NewRegistry()
	if err := jobs.New(jobs.Config{Store: e.store, Now: e.clock.Now, Registerer: reg}).RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	broken, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	broken.Close() // every call now fails
	regBroken := prometheus.NewRegistry()
	if err := jobs.New(jobs.Config{Store: broken, Now: e.clock.Now, Registerer: regBroken}).RunOnce(ctx); err == nil {
		t.Fatal("RunOnce on a closed store: got nil, want an error")
	}
	good, bad := series(t, reg, "latchkey_job_runs_total"), series(t, regBroken, "latchkey_job_runs_total")
	for _, job := range []string{"expiry_notices", "expired_keys", "deletions"} {
		ok, failed := "job="+job+",outcome=ok,", "job="+job+",outcome=error,"
		if good[ok] != 1 || good[failed] != 0 || bad[ok] != 0 || bad[failed] != 1 {
			t.Errorf("%s: working store %v/%v, broken store %v/%v ok/error; want 1/0 and 0/1", job, good[ok], good[failed], bad[ok], bad[failed])
		}
	}
	if got := len(series(t, reg, "latchkey_job_last_success_timestamp_seconds")); got != 3 {
		t.Errorf("last success series of the working runner: got %d, want 3", got)
	}
	if got := len(series(t, regBroken, "latchkey_job_last_success_timestamp_seconds")); got != 0 {
		t.Errorf("last success series of the failing runner: got %d, want 0", got)
	}
}
