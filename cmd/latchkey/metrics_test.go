package main

import (
	"bytes"
	"crypto/rand"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/token"
)

func scrape(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// metricValue finds the value of one exposed series line ("name{labels} value").
func metricValue(body, series string) string {
	for _, line := range strings.Split(body, "\n") {
		if rest, ok := strings.CutPrefix(line, series+" "); ok {
			return rest
		}
	}
	return ""
}

// TestMetricsOnTheirOwnListener: with --metrics-addr, an anonymous caller
// of the main address gets no /metrics; the metrics listener has them,
// including the cache, job and delivery series, and no pprof unless asked.
func TestMetricsOnTheirOwnListener(t *testing.T) {
	s := startServerWith(t, func(c *Config) { c.MetricsAddr = "127.0.0.1:0" })
	if st, _ := scrape(t, s.URL+"/metrics"); st != http.StatusNotFound {
		t.Errorf("/metrics on the main listener with --metrics-addr: got %d, want 404", st)
	}
	murl := s.Main.MetricsURL()
	if st, _ := scrape(t, murl+"/debug/pprof/"); st != http.StatusNotFound {
		t.Errorf("pprof on the metrics listener without --metrics-pprof: got %d, want 404", st)
	}

	var created struct {
		Secret string `json:"secret"`
	}
	hc := s.login(t)
	if st := s.call(t, hc, http.MethodPost, "/v1/workspaces/"+s.WorkspaceID+"/keys",
		map[string]any{"name": "m", "type": "public_api", "scopes": []string{"items:read"}, "expires_in": "30d"}, &created); st != 201 {
		t.Fatalf("creating a key: %d", st)
	}
	// Unknown tokens are refused by the membership set once it is loaded
	// (asynchronously at start): wait for it, so the counts below are
	// the same on every run.
	for deadline := time.Now().Add(10 * time.Second); !s.Main.verifier.MembershipReady(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the membership set did not load within 10 s")
		}
	}
	_, before := scrape(t, murl+"/metrics")
	f, _ := token.NewFormat(token.DefaultPrefix)
	unknown, _, err := f.New(rand.Reader, latchkey.Production)
	if err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{created.Secret, created.Secret, unknown, unknown} {
		s.verifySecret(t, tok)
	}
	st, body := scrape(t, murl+"/metrics")
	if st != http.StatusOK {
		t.Fatalf("/metrics on the metrics listener: got %d", st)
	}
	for _, tc := range []struct{ series, want string }{
		{`latchkey_verify_cache_lookups_total{result="hit"}`, "1"},
		{`latchkey_verify_cache_lookups_total{result="miss"}`, "1"},
		// The unknown token never reaches the cache's negative entries
		// or the store: the membership set refuses it, twice.
		{`latchkey_verify_cache_lookups_total{result="negative_hit"}`, "0"},
		{`latchkey_verify_membership_total{result="absent"}`, "2"},
	} {
		was := metricValue(before, tc.series)
		if was == "" {
			was = "0"
		}
		if got := metricValue(body, tc.series); got != addStr(was, tc.want) {
			t.Errorf("%s: got %q (was %q), want %s more", tc.series, got, was, tc.want)
		}
	}
	for _, name := range []string{"latchkey_job_runs_total", "latchkey_webhook_deliveries_total", "latchkey_verify_results_total", "latchkey_http_requests_total"} {
		if !strings.Contains(body, "# TYPE "+name+" ") {
			t.Errorf("/metrics lacks %s", name)
		}
	}
	// The first job run happens at start: wait for its count.
	deadline := time.Now().Add(5 * time.Second)
	for metricValue(body, `latchkey_job_runs_total{job="deletions",outcome="ok"}`) != "1" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
		_, body = scrape(t, murl+"/metrics")
	}
	if got := metricValue(body, `latchkey_job_runs_total{job="deletions",outcome="ok"}`); got != "1" {
		t.Errorf("deletions job runs ok: got %q, want 1", got)
	}
	// No token and no hash of one is a label value.
	if strings.Contains(body, created.Secret) || strings.Contains(body, unknown) {
		t.Errorf("/metrics holds a token")
	}
}

func addStr(a, b string) string {
	x, _ := strconv.Atoi(a)
	y, _ := strconv.Atoi(b)
	return strconv.Itoa(x + y)
}

func TestMetricsPprofOnlyOnLoopback(t *testing.T) {
	s := startServerWith(t, func(c *Config) { c.MetricsAddr = "127.0.0.1:0"; c.MetricsPprof = true })
	if st, _ := scrape(t, s.Main.MetricsURL()+"/debug/pprof/"); st != http.StatusOK {
		t.Errorf("pprof with --metrics-pprof: got %d, want 200", st)
	}
	if st, _ := scrape(t, s.URL+"/debug/pprof/"); st == http.StatusOK {
		t.Errorf("pprof on the main listener: got 200, want it absent")
	}
	for _, args := range [][]string{
		{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--metrics-addr", "0.0.0.0:0", "--metrics-pprof"},
		{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--metrics-pprof"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errb.String())
		}
	}
}

// TestUsageIntervalsMustBePositive: a zero or negative flush or fold
// interval is refused at start with exit 2, not replaced silently.
func TestUsageIntervalsMustBePositive(t *testing.T) {
	for _, args := range [][]string{
		{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--usage-flush", "0s"},
		{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0", "--usage-fold", "-1m"},
	} {
		var out, errb bytes.Buffer
		if code := run(args, &out, &errb); code != 2 {
			t.Errorf("%v: exit %d (%s), want 2", args, code, errb.String())
		}
	}
}

// TestWebhookDeliveriesAreCounted: a delivered webhook and one its receiver
// refuses are counted by outcome.
func TestWebhookDeliveriesAreCounted(t *testing.T) {
	var fail atomic.Bool
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if fail.Load() {
			w.WriteHeader(http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer receiver.Close()
	s := startServerWith(t, func(c *Config) {
		c.MetricsAddr = "127.0.0.1:0"
		c.WebhooksAllowPrivate = true
		c.WebhookInterval = 50 * time.Millisecond
	})
	hc := s.login(t)
	mk := func(name string) string {
		var out struct {
			Key struct{ ID string } `json:"key"`
		}
		in := map[string]any{"name": name, "type": "public_api", "scopes": []string{"items:read"}, "expires_in": "30d", "callback_url": receiver.URL + "/hook"}
		if st := s.call(t, hc, http.MethodPost, "/v1/workspaces/"+s.WorkspaceID+"/keys", in, &out); st != 201 {
			t.Fatalf("creating a key with a callback: %d", st)
		}
		return out.Key.ID
	}
	wait := func(series, want string) {
		t.Helper()
		var body string
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if _, body = scrape(t, s.Main.MetricsURL()+"/metrics"); metricValue(body, series) == want {
				return
			}
		}
		t.Errorf("%s: got %q, want %s", series, metricValue(body, series), want)
	}
	id := mk("delivered")
	if st := s.call(t, hc, http.MethodPost, "/v1/workspaces/"+s.WorkspaceID+"/keys/"+id+"/revoke", nil, nil); st != http.StatusOK {
		t.Fatalf("revoke: %d", st)
	}
	wait(`latchkey_webhook_deliveries_total{outcome="delivered"}`, "1")
	fail.Store(true)
	id = mk("refused")
	if st := s.call(t, hc, http.MethodPost, "/v1/workspaces/"+s.WorkspaceID+"/keys/"+id+"/revoke", nil, nil); st != http.StatusOK {
		t.Fatalf("revoke: %d", st)
	}
	wait(`latchkey_webhook_deliveries_total{outcome="retry"}`, "1")
}
