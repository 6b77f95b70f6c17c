package verify

import (
	"context"
	"encoding/base64"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

func BenchmarkCheckWarm(b *testing.B) {
	f := newFixture(b)
	tok, _ := f.key()
	req := Request{Scopes: []string{"items:read"}, Type: "public_api"}
	ctx := context.Background()
	if r := f.v.Check(ctx, tok, req); r.Code != "" {
		b.Fatalf("Check: got %q, want valid", r.Code)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := f.v.Check(ctx, tok, req); r.Code != "" {
			b.Fatal(r.Code)
		}
	}
}

func BenchmarkCheckCold(b *testing.B) {
	f := newFixture(b, func(c *Config) { c.DisableCache = true })
	tok, _ := f.key()
	req := Request{Scopes: []string{"items:read"}}
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if r := f.v.Check(ctx, tok, req); r.Code != "" {
			b.Fatal(r.Code)
		}
	}
}

// nopWriter is the cheapest ResponseWriter, to see the handler's own cost
// apart from httptest.ResponseRecorder's.
type nopWriter struct{ h http.Header }

func (w *nopWriter) Header() http.Header               { return w.h }
func (w *nopWriter) Write(p []byte) (int, error)       { return len(p), nil }
func (w *nopWriter) WriteString(s string) (int, error) { return len(s), nil }
func (w *nopWriter) WriteHeader(int)                   {}

type rewindReader struct{ strings.Reader }

func (r *rewindReader) Close() error { return nil }

func benchHandler(b *testing.B, h http.Handler, r *http.Request, body string, recorder bool) {
	var rr *rewindReader
	if body != "" {
		rr = &rewindReader{}
		r.Body = rr
	}
	serve := func() int {
		if rr != nil {
			rr.Reset(body)
		}
		if recorder {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			return w.Code
		}
		w := &nopWriter{h: make(http.Header, 8)}
		h.ServeHTTP(w, r)
		return 200
	}
	if code := serve(); code != 200 {
		b.Fatalf("status: got %d, want 200", code)
	}
	b.ReportAllocs()
	for b.Loop() {
		serve()
	}
}

func BenchmarkPostHandlerWarm(b *testing.B) {
	for _, rec := range []bool{true, false} {
		b.Run(map[bool]string{true: "recorder", false: "nopwriter"}[rec], func(b *testing.B) {
			f := newFixture(b)
			tok, _ := f.key()
			body := `{"key":"` + tok + `","scopes":["items:read"],"type":"public_api","environment":"production"}`
			r := httptest.NewRequest("POST", "/v1/keys/verify", nil)
			benchHandler(b, f.v.PostHandler(), r, body, rec)
		})
	}
}

func BenchmarkForwardAuthWarm(b *testing.B) {
	for _, rec := range []bool{true, false} {
		b.Run(map[bool]string{true: "recorder", false: "nopwriter"}[rec], func(b *testing.B) {
			f := newFixture(b)
			tok, k := f.key()
			for _, p := range []struct{ name, header, value string }{
				{"xapikey", "X-API-Key", tok},
				{"basic", "Authorization", "Basic " + base64.StdEncoding.EncodeToString([]byte(k.ID+":"+tok))},
			} {
				b.Run(p.name, func(b *testing.B) {
					r := httptest.NewRequest("GET", "/v1/verify?scope=items:read,accounts:read", nil)
					r.Header.Set(p.header, p.value)
					benchHandler(b, f.v.ForwardAuthHandler(), r, "", rec)
				})
			}
		})
	}
}

// BenchmarkBareHandler is the yardstick of §8: a handler that writes a
// 60-byte JSON body and does nothing else.
func BenchmarkBareHandler(b *testing.B) {
	const body = `{"valid":true,"key":{"id":"key_01JD0000000000000000000000"}}`
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		io.WriteString(w, body)
	})
	for _, rec := range []bool{true, false} {
		b.Run(map[bool]string{true: "recorder", false: "nopwriter"}[rec], func(b *testing.B) {
			r := httptest.NewRequest("GET", "/bare", nil)
			benchHandler(b, h, r, "", rec)
		})
	}
}

// BenchmarkCheckWarmBound is BenchmarkCheckWarm for a key bound to
// networks, presented from an allowed IPv6 address.
func BenchmarkCheckWarmBound(b *testing.B) {
	f := newFixture(b)
	tok, _ := f.key(func(k *latchkey.Key) { k.AllowedIPs = []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"} })
	req := Request{Scopes: []string{"items:read"}, Type: "public_api", Addr: netip.MustParseAddr("2001:db8::7")}
	ctx := context.Background()
	if r := f.v.Check(ctx, tok, req); r.Code != "" {
		b.Fatalf("Check: got %q, want valid", r.Code)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := f.v.Check(ctx, tok, req); r.Code != "" {
			b.Fatal(r.Code)
		}
	}
}
