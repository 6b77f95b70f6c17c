package scim

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/postgres/pgtest"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/verify"
)

// stores are the two stores every SCIM test runs against.
var stores = []struct {
	name string
	open func(t *testing.T) latchkey.Store
}{
	{"sqlite", func(t *testing.T) latchkey.Store {
		db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
		if err != nil {
			t.Fatalf("sqlite.Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
	{"postgres", func(t *testing.T) latchkey.Store {
		d := pgtest.New(t)
		db, err := postgres.Open(context.Background(), d.URL(nil))
		if err != nil {
			t.Fatalf("postgres.Open: %v", err)
		}
		t.Cleanup(func() { db.Close() })
		return db
	}},
}

// env is a workspace with an owner and a SCIM key, served over HTTP the
// way cmd/latchkey mounts the SCIM surface.
type env struct {
	t       testing.TB
	ctx     context.Context
	svc     *manage.Service
	store   latchkey.Store
	url     string
	ws      string
	ownerID string
	owner   latchkey.Principal
	token   string
	v       *verify.Verifier
}

func newEnv(t testing.TB, store latchkey.Store) *env {
	t.Helper()
	ctx := context.Background()
	v := verify.New(verify.Config{Store: store})
	svc := manage.New(manage.Config{Store: store, Invalidator: v})
	first, err := svc.Init(ctx, "Acme", "owner@acme.test", "Tabby-Lantern-Orbit-42")
	if err != nil {
		t.Fatalf("Init: %v", err)
	}
	e := &env{t: t, ctx: ctx, svc: svc, store: store, ws: first.Workspace.ID, ownerID: first.Owner.ID, v: v}
	e.owner, err = svc.Principal(ctx, manage.Caller{User: first.Owner, IP: "192.0.2.9"}, e.ws)
	if err != nil {
		t.Fatal(err)
	}
	e.token = e.key(latchkey.TypeSCIM, "Okta")
	mux := http.NewServeMux()
	New(Config{Service: svc, Keys: v}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	e.url = srv.URL + Prefix
	return e
}

// key creates a workspace key of type typ as the owner and returns its secret.
func (e *env) key(typ, name string) string {
	e.t.Helper()
	in := manage.CreateKey{Name: name, Type: typ}
	switch typ {
	case latchkey.TypeSCIM:
		in.Settings = map[string]any{"integration": "okta", "contact_email": "it@acme.test"}
	case latchkey.TypeManagement:
		in.Scopes = []string{"members:read"}
	}
	_, secret, err := e.svc.CreateKey(e.ctx, e.owner, e.ws, in)
	if err != nil {
		e.t.Fatalf("CreateKey(%s): %v", typ, err)
	}
	return secret
}

func (e *env) setCustom(on bool) {
	e.t.Helper()
	if _, err := e.svc.UpdateSettings(e.ctx, e.owner, e.ws, manage.SettingsPatch{ScimCustomAttributes: &on}); err != nil {
		e.t.Fatalf("UpdateSettings: %v", err)
	}
}

// reply is one answer of the SCIM surface.
type reply struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// do sends a request with the SCIM key (or token, when given).
func (e *env) do(method, path string, body any, token ...string) reply {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, _ := json.Marshal(b)
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.url+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	tok := e.token
	if len(token) > 0 {
		tok = token[0]
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/scim+json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	r := reply{status: resp.StatusCode, header: resp.Header, raw: string(raw)}
	if len(raw) > 0 {
		if ct := resp.Header.Get("Content-Type"); ct != ContentType {
			e.t.Fatalf("%s %s: Content-Type %q, want %q", method, path, ct, ContentType)
		}
		if err := json.Unmarshal(raw, &r.body); err != nil {
			e.t.Fatalf("%s %s: the answer is not a JSON object: %s", method, path, raw)
		}
	}
	return r
}

// subset reports how got differs from want: every key of want must be in
// got with a matching value; lists match element by element and in
// length; "*" matches any present value.
func subset(got, want any, at string) string {
	if s, ok := want.(string); ok && s == "*" {
		if got == nil {
			return at + ": missing"
		}
		return ""
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Sprintf("%s: got %v, want an object", at, got)
		}
		for k, wv := range w {
			gv, present := g[k]
			if !present {
				return fmt.Sprintf("%s.%s: missing", at, k)
			}
			if d := subset(gv, wv, at+"."+k); d != "" {
				return d
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return fmt.Sprintf("%s: got %v, want %d elements", at, got, len(w))
		}
		for i := range w {
			if d := subset(g[i], w[i], fmt.Sprintf("%s[%d]", at, i)); d != "" {
				return d
			}
		}
	default:
		if fmt.Sprint(got) != fmt.Sprint(want) {
			return fmt.Sprintf("%s: got %v, want %v", at, got, want)
		}
	}
	return ""
}
