package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/token"
)

// unknownFlood measures what a flood of distinct, well-formed tokens that
// no key has costs: more of them than the negative cache holds, so that
// only the membership set stands between them and the store. It counts the
// server's store reads and its key_invalid answers from /metrics.
func (b *bench) unknownFlood(ctx context.Context, r *result) error {
	c, err := b.warmServer(ctx)
	if err != nil {
		return err
	}
	format, err := token.NewFormat(token.DefaultPrefix)
	if err != nil {
		return err
	}
	var sb strings.Builder
	for range b.o.flood {
		tok, _, err := format.New(rand.Reader, latchkey.Production)
		if err != nil {
			return err
		}
		sb.WriteString(tok)
		sb.WriteByte('\n')
	}
	keysFile := filepath.Join(b.work, "flood.keys")
	if err := os.WriteFile(keysFile, []byte(sb.String()), 0o600); err != nil {
		return err
	}
	r.note("%d distinct unknown tokens, cycled through", b.o.flood)
	r.Target = "≥ 0.80× bare, no store read"
	reads0, err := metric(c.URL, `latchkey_verify_cache_lookups_total{result="miss"}`)
	if err != nil {
		return err
	}
	invalid0, err := metric(c.URL, `latchkey_verify_results_total{code="key_invalid"}`)
	if err != nil {
		return err
	}
	l := verifyGet("")
	l.KeysFile = keysFile
	err = b.measure(ctx, r, measurement{server: c, load: l, status: http.StatusUnauthorized, profile: pprofURL(c)})
	reads1, err1 := metric(c.URL, `latchkey_verify_cache_lookups_total{result="miss"}`)
	invalid1, err2 := metric(c.URL, `latchkey_verify_results_total{code="key_invalid"}`)
	if err == nil && (err1 != nil || err2 != nil) {
		err = fmt.Errorf("reading /metrics: %v %v", err1, err2)
	}
	if err != nil {
		return err
	}
	reads, refused := reads1-reads0, invalid1-invalid0
	r.note("the server read the store %.0f times for %.0f key_invalid answers (warm-up included)", reads, refused)
	if refused < float64(r.Requests) {
		return fmt.Errorf("%.0f key_invalid answers for %d requests: other refusals were measured", refused, r.Requests)
	}
	if b.keys10kRPS > 0 {
		r.note("%.2f× verify-10k-keys, which cycles through a file of keys the same way", r.RPS/b.keys10kRPS)
	}
	r.check(r.Ratio >= 0.8 && reads == 0)
	return nil
}

// metric reads one sample, written exactly as name{labels}, from a
// server's /metrics; 0 when the server has not counted it yet.
func metric(base, sample string) (float64, error) {
	v, _, err := sampled(base, sample)
	return v, err
}

// refusals lists a server's verifications other than valid, by code, as
// its /metrics counts them: which refusal a failed run met.
func refusals(base string) string {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	var out []string
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		code, ok := strings.CutPrefix(sc.Text(), `latchkey_verify_results_total{code="`)
		if !ok || strings.HasPrefix(code, `valid"`) || strings.HasSuffix(code, `"} 0`) {
			continue
		}
		out = append(out, strings.Replace(code, `"} `, "=", 1))
	}
	if len(out) == 0 {
		return "none counted"
	}
	return strings.Join(out, ", ")
}

// sampled reads one sample as metric does, and whether the server
// exports it at all.
func sampled(base, sample string) (v float64, found bool, err error) {
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		return 0, false, err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), sample+" "); ok {
			v, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return v, true, err
		}
	}
	return 0, false, sc.Err()
}
