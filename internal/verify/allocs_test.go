package verify

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchkey/latchkey"
)

// TestWarmDecisionDoesNotAllocate holds the decision on a cached, valid key
// to zero allocations, and each handler around it to the one it needs
// (measured with the cheapest ResponseWriter, so that only the handler's
// own work counts): POST copies the body into one string whose substrings
// the decision uses, so that the pooled read buffer goes back at once and no
// request string can alias it; GET's six X-Latchkey-* values share one
// slice, which must outlive the handler since net/http writes headers after
// it returns.
func TestWarmDecisionDoesNotAllocate(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key()
	ctx := context.Background()
	// As the two handlers ask: GET names scopes, POST scopes, type and
	// environment.
	for _, req := range []Request{
		{Scopes: []string{"items:read", "accounts:read"}},
		{Scopes: []string{"items:read"}, Type: "public_api", Environment: latchkey.Production},
	} {
		if r := f.v.Check(ctx, tok, req); r.Code != "" {
			t.Fatalf("Check: got %q, want valid", r.Code)
		}
		if n := testing.AllocsPerRun(1000, func() {
			if r := f.v.Check(ctx, tok, req); r.Code != "" {
				t.Fatal(r.Code)
			}
		}); n != 0 {
			t.Errorf("Check %+v of a cached key: %v allocations, want 0", req, n)
		}
	}

	body := `{"key":"` + tok + `","scopes":["items:read"],"type":"public_api","environment":"production"}`
	handlerAllocs(t, f, tok, "/v1/verify?scope=items:read,accounts:read", body, "", 1, 1)
}

// handlerAllocs holds each verify handler to want allocations per warm
// request for tok (GET with query, POST with body); a 200 answer must
// also carry the header mustHave when it is not "". Under the race
// detector the counts are skipped: pooled buffers allocate at random.
func handlerAllocs(t *testing.T, f *fixture, tok, query, body, mustHave string, wantGet, wantPost float64) {
	t.Helper()
	get := httptest.NewRequest("GET", query, nil)
	get.Header.Set("X-API-Key", tok)
	post := httptest.NewRequest("POST", "/v1/keys/verify", nil)
	rr := &rewindReader{}
	post.Body = rr
	w := &statusWriter{h: make(http.Header, 16)}
	for _, c := range []struct {
		name string
		h    http.Handler
		r    *http.Request
		want float64
	}{
		{"GET /v1/verify", f.v.ForwardAuthHandler(), get, wantGet},
		{"POST /v1/keys/verify", f.v.PostHandler(), post, wantPost},
	} {
		serve := func() {
			rr.Reset(body)
			clear(w.h)
			w.code, w.n = 0, 0
			c.h.ServeHTTP(w, c.r)
		}
		serve()
		if w.code != 200 || (c.r == get && mustHave != "" && w.h.Get(mustHave) == "") {
			t.Fatalf("%s: status %d, headers %v, want 200 with %s", c.name, w.code, w.h, mustHave)
		}
		if raceEnabled {
			continue
		}
		if n := testing.AllocsPerRun(1000, serve); n != c.want {
			t.Errorf("%s with a cached key: %v allocations, want %v", c.name, n, c.want)
		}
	}
}

// statusWriter is nopWriter that remembers the status and body size.
type statusWriter struct {
	h    http.Header
	code int
	n    int
}

func (w *statusWriter) Header() http.Header { return w.h }
func (w *statusWriter) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}
func (w *statusWriter) WriteString(s string) (int, error) {
	w.n += len(s)
	return len(s), nil
}
func (w *statusWriter) WriteHeader(code int) { w.code = code }
