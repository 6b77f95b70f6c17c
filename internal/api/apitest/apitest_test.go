package apitest_test

import (
	"context"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/api"
	"github.com/latchkey/latchkey/internal/api/apitest"
	"github.com/latchkey/latchkey/internal/manage"
)

func TestDocumentIsValidOpenAPI31(t *testing.T) {
	ctx := context.Background()
	doc, err := apitest.Load(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !doc.IsOpenAPI31OrLater() {
		t.Errorf("got openapi %q, want 3.1.x", doc.OpenAPI)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Errorf("Validate: %v", err)
	}
	for path, item := range doc.Paths.Map() {
		for method, op := range item.Operations() {
			if op.OperationID == "" || op.Summary == "" {
				t.Errorf("%s %s: every operation needs an operationId and a summary", method, path)
			}
			for code, r := range op.Responses.Map() {
				if r.Value == nil || r.Value.Description == nil || *r.Value.Description == "" {
					t.Errorf("%s %s %s: a response needs a description", method, path, code)
				}
			}
		}
	}
}

// Parse must refuse a broken document: otherwise a passing Load proves nothing.
func TestParseRefusesBrokenDocuments(t *testing.T) {
	for name, doc := range map[string]string{
		"not JSON":       `{"openapi": "3.1.0",`,
		"dangling ref":   `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{"responses":{"200":{"$ref":"#/components/responses/Nope"}}}}}}`,
		"bad type":       `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{},"components":{"schemas":{"A":{"type":"strin"}}}}`,
		"no info":        `{"openapi":"3.1.0","paths":{}}`,
		"external ref":   `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{},"components":{"schemas":{"A":{"$ref":"https://example.com/a.json"}}}}`,
		"path param lie": `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/a/{id}":{"get":{"responses":{"200":{"description":"ok"}}}}}}`,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := apitest.Parse(context.Background(), []byte(doc)); err == nil {
				t.Error("got no error, want the document refused")
			}
		})
	}
}

// routes returns the method patterns registered with mux.HandleFunc or
// mux.Handle in a Go file, read from its syntax tree.
func routes(t *testing.T, file string) []string {
	t.Helper()
	f, err := parser.ParseFile(token.NewFileSet(), file, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	ast.Inspect(f, func(n ast.Node) bool {
		call, ok := n.(*ast.CallExpr)
		if !ok || len(call.Args) == 0 {
			return true
		}
		sel, ok := call.Fun.(*ast.SelectorExpr)
		if !ok || (sel.Sel.Name != "HandleFunc" && sel.Sel.Name != "Handle") {
			return true
		}
		lit, ok := call.Args[0].(*ast.BasicLit)
		if !ok || lit.Kind != token.STRING {
			return true
		}
		pattern, err := strconv.Unquote(lit.Value)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(pattern, " ") { // "GET /v1/me"; catch-alls such as "/v1/" have no method
			out = append(out, pattern)
		}
		return true
	})
	return out
}

// TestEveryRouteIsDocumented compares the route table with the document
// both ways: every registered method pattern is an operation, and every
// operation is registered. The management routes are read from api.go and
// then resolved on a real mux, so that a documented path the mux would
// send to the /v1/ catch-all fails too.
func TestEveryRouteIsDocumented(t *testing.T) {
	v := apitest.New(t)
	documented := map[string]bool{}
	for _, e := range v.Documented() {
		documented[e.Operation()] = true
	}

	apiRoutes := routes(t, filepath.Join("..", "api.go"))
	serverRoutes := routes(t, filepath.Join("..", "..", "server", "server.go"))
	if len(apiRoutes) < 10 || len(serverRoutes) < 4 {
		t.Fatalf("found %d API and %d server routes: the route parser no longer sees the route tables", len(apiRoutes), len(serverRoutes))
	}
	registered := append(slices.Clone(apiRoutes), serverRoutes...)
	for _, r := range registered {
		if !documented[r] {
			t.Errorf("route %q is registered but not in openapi.json", r)
		}
	}
	for op := range documented {
		if !slices.Contains(registered, op) {
			t.Errorf("operation %q is documented but not registered", op)
		}
	}

	// No handler runs: a Service without a store is enough to register.
	mux := http.NewServeMux()
	api.New(api.Config{Service: manage.New(manage.Config{})}).Register(mux)
	for _, r := range apiRoutes {
		method, path, _ := strings.Cut(r, " ")
		concrete := strings.NewReplacer("{ws}", "ws_x", "{id}", "key_x").Replace(path)
		req := httptest.NewRequest(method, concrete, nil)
		if _, pattern := mux.Handler(req); pattern != r {
			t.Errorf("%s %s resolves to pattern %q, want %q", method, concrete, pattern, r)
		}
	}
}

// recorder is a testing.TB that keeps what the validator reports.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	errors []string
	logs   []string
}

func (r *recorder) Helper() {}

func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

func (r *recorder) Logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs = append(r.logs, fmt.Sprintf(format, args...))
}

func (r *recorder) Fatalf(format string, args ...any) { r.Errorf(format, args...) }

const (
	wsID   = "ws_01JD8Q2Z7C4B5N6M7K8J9H0G1F"
	keyID  = "key_01JD8Q3K9W6V2T7Y5X4R3P2N1M"
	userID = "usr_01JD8Q2Z7C4B5N6M7K8J9H0G1E"
)

func keyJSON(override string) string {
	fields := map[string]string{
		"id": `"` + keyID + `"`, "workspace_id": `"` + wsID + `"`, "name": `"Billing"`, "description": `""`,
		"type": `"public_api"`, "environment": `"production"`, "owner": `"workspace"`, "scopes": `["items:read"]`,
		"settings": `{}`, "created_by": `"` + userID + `"`, "created_at": `"2026-01-02T03:04:05.123456Z"`,
		"expires_at": `null`, "last_used_at": `null`, "revoked_at": `null`, "start": `"lk_prod_Ab3d"`, "status": `"active"`,
	}
	// override is "field=json" or "-field" (remove).
	if override != "" {
		if f, ok := strings.CutPrefix(override, "-"); ok {
			delete(fields, f)
		} else {
			f, val, _ := strings.Cut(override, "=")
			fields[f] = val
		}
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteString("{")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "%q:%s", k, fields[k])
	}
	b.WriteString("}")
	return b.String()
}

const settingsJSON = `{"expiration":{"presets":["1h","30d","1y"],"max_lifetime":"1y","allow_never_expire":false,"notice_before":["30d"],"delete_after_expiry":"90d","revoked_retention":"90d"},"scim_custom_attributes":false,"scim_key_issuance":"admins","members_may_create_personal_keys":true}`

// answer is what the fake server sends back.
type answer struct {
	status int
	header map[string]string
	body   string
}

// exchange is one request a test sends and the answer the fake server gives.
type exchange struct {
	method, path string
	header       map[string]string
	body         string
	answer       answer
}

var (
	session = map[string]string{"Cookie": "latchkey_session=abc"}
	jsonCT  = map[string]string{"Cookie": "latchkey_session=abc", "Content-Type": "application/json"}
	mgmtKey = map[string]string{"Authorization": "Bearer lk_prod_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}
)

func jsonAnswer(status int, body string) answer {
	return answer{status: status, header: map[string]string{"Content-Type": "application/json"}, body: body}
}

// TestValidatorReports proves the harness fails a test on every kind of
// drift, and stays quiet on faithful exchanges: each case is served by a
// fake server and the report is caught by a recording testing.TB.
func TestValidatorReports(t *testing.T) {
	keys := "/v1/workspaces/" + wsID + "/keys"
	unauthorized := answer{status: 401, header: map[string]string{"Content-Type": "application/json", "WWW-Authenticate": `Bearer realm="latchkey"`},
		body: `{"error":{"code":"unauthenticated","message":"log in","details":{}}}`}
	verifyHeaders := map[string]string{
		"Content-Type": "application/json", "X-Latchkey-Key-Id": keyID, "X-Latchkey-Workspace-Id": wsID,
		"X-Latchkey-Environment": "production", "X-Latchkey-Scopes": "items:read", "X-Latchkey-Owner": "workspace",
	}
	verified := `{"valid":true,"key":{"id":"` + keyID + `","workspace_id":"` + wsID + `","name":"Billing","type":"public_api","environment":"production","owner":"workspace","scopes":["items:read"],"settings":{},"expires_at":null}}`
	withoutOwnerHeader := map[string]string{}
	for k, v := range verifyHeaders {
		if k != "X-Latchkey-Owner" {
			withoutOwnerHeader[k] = v
		}
	}

	cases := []struct {
		name    string
		ex      exchange
		wantErr string // "" when the exchange is faithful
	}{
		{"faithful me", exchange{"GET", "/v1/me", session, "", jsonAnswer(200,
			`{"user":{"id":"`+userID+`","email":"ann@example.com","created_at":"2026-01-02T03:04:05Z"},"workspaces":[{"id":"`+wsID+`","name":"Acme","role":"owner","active":true}]}`)}, ""},
		{"missing required field", exchange{"GET", "/v1/me", session, "", jsonAnswer(200,
			`{"user":{"id":"`+userID+`","created_at":"2026-01-02T03:04:05Z"},"workspaces":[]}`)}, "email"},
		{"faithful key", exchange{"GET", keys + "/" + keyID, mgmtKey, "", jsonAnswer(200, `{"key":`+keyJSON("")+`}`)}, ""},
		{"nullable field set", exchange{"GET", keys + "/" + keyID, mgmtKey, "", jsonAnswer(200, `{"key":`+keyJSON(`expires_at="2027-01-01T00:00:00Z"`)+`}`)}, ""},
		{"null where not nullable (2020-12 path)", exchange{"GET", keys + "/" + keyID, mgmtKey, "", jsonAnswer(200, `{"key":`+keyJSON(`name=null`)+`}`)}, "name"},
		{"wrong type in nullable field", exchange{"GET", keys + "/" + keyID, mgmtKey, "", jsonAnswer(200, `{"key":`+keyJSON(`expires_at=12`)+`}`)}, "expires_at"},
		{"undocumented field", exchange{"GET", keys + "/" + keyID, mgmtKey, "", jsonAnswer(200, `{"key":`+keyJSON(`hash="abc"`)+`}`)}, "hash"},
		{"status outside enum", exchange{"GET", keys + "/" + keyID, mgmtKey, "", jsonAnswer(200, `{"key":`+keyJSON(`status="paused"`)+`}`)}, "status"},
		{"missing derived status", exchange{"GET", keys + "/" + keyID, mgmtKey, "", jsonAnswer(200, `{"key":`+keyJSON(`-status`)+`}`)}, "status"},
		{"faithful settings", exchange{"GET", "/v1/workspaces/" + wsID + "/settings", session, "", jsonAnswer(200, settingsJSON)}, ""},
		{"null where not nullable (kin-openapi path)", exchange{"GET", "/v1/workspaces/" + wsID + "/settings", session, "",
			jsonAnswer(200, strings.Replace(settingsJSON, `"scim_custom_attributes":false`, `"scim_custom_attributes":null`, 1))}, "scim_custom_attributes"},
		{"duration not a duration", exchange{"GET", "/v1/workspaces/" + wsID + "/settings", session, "",
			jsonAnswer(200, strings.Replace(settingsJSON, `"max_lifetime":"1y"`, `"max_lifetime":"a year"`, 1))}, "max_lifetime"},
		{"undocumented status", exchange{"GET", "/v1/me", session, "", jsonAnswer(418, `{"error":{"code":"internal","message":"teapot","details":{}}}`)}, "418"},
		{"error outside the error shape", exchange{"GET", "/v1/me", session, "", jsonAnswer(500, `{"message":"boom"}`)}, "error"},
		{"unknown error code", exchange{"GET", "/v1/me", session, "", jsonAnswer(500, `{"error":{"code":"boom","message":"x","details":{}}}`)}, "code"},
		{"401 without challenge", exchange{"GET", "/v1/me", session, "", jsonAnswer(401, `{"error":{"code":"unauthenticated","message":"x","details":{}}}`)}, "WWW-Authenticate"},
		{"no credential answered 401", exchange{"GET", "/v1/me", nil, "", unauthorized}, ""},
		{"no credential answered 200", exchange{"GET", "/v1/me", nil, "", jsonAnswer(200,
			`{"user":{"id":"`+userID+`","email":"a@b.co","created_at":"2026-01-02T03:04:05Z"},"workspaces":[]}`)}, "not 401"},
		{"invalid body refused", exchange{"POST", keys, jsonCT, `{"name":"x","colour":"red"}`, jsonAnswer(400,
			`{"error":{"code":"invalid_request","message":"unknown field \"colour\"","details":{"field":"colour"}}}`)}, ""},
		{"invalid body accepted", exchange{"POST", keys, jsonCT, `{"name":"x","colour":"red"}`, jsonAnswer(201,
			`{"key":`+keyJSON("")+`,"secret":"lk_prod_Ab3dxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)}, "accepted a request the document refuses"},
		{"both expiries accepted", exchange{"POST", keys, jsonCT, `{"name":"x","expires_in":"30d","expires_at":"2030-01-01T00:00:00Z"}`, jsonAnswer(201,
			`{"key":`+keyJSON("")+`,"secret":"lk_prod_Ab3dxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)}, "accepted a request the document refuses"},
		{"bad query accepted", exchange{"GET", keys + "?limit=500", session, "", jsonAnswer(200, `{"data":[],"next_cursor":""}`)}, "limit"},
		{"secret without no-store", exchange{"POST", keys, jsonCT, `{"name":"x"}`, jsonAnswer(201,
			`{"key":`+keyJSON("")+`,"secret":"lk_prod_Ab3dxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`)}, "Cache-Control"},
		{"faithful forward-auth", exchange{"GET", "/v1/verify?scope=items:read", map[string]string{"X-API-Key": "lk_prod_x"}, "",
			answer{200, verifyHeaders, verified}}, ""},
		{"forward-auth without owner header", exchange{"GET", "/v1/verify", map[string]string{"X-API-Key": "lk_prod_x"}, "",
			answer{200, withoutOwnerHeader, verified}}, "X-Latchkey-Owner"},
		{"verify failure with unknown code", exchange{"POST", "/v1/keys/verify", map[string]string{"Content-Type": "application/json"}, `{"key":"x"}`,
			answer{401, map[string]string{"Content-Type": "application/json", "WWW-Authenticate": `Bearer realm="latchkey"`},
				`{"valid":false,"error":{"code":"nope","message":"x","details":{}}}`}}, "code"},
		{"verify 403 with a 401 code", exchange{"POST", "/v1/keys/verify", map[string]string{"Content-Type": "application/json"}, `{"key":"x"}`,
			jsonAnswer(403, `{"valid":false,"error":{"code":"key_revoked","message":"x","details":{}}}`)}, "code"},
		{"unknown endpoint in error shape", exchange{"GET", "/v1/nope", session, "", jsonAnswer(404,
			`{"error":{"code":"not_found","message":"no such endpoint","details":{}}}`)}, ""},
		{"unknown endpoint answered", exchange{"GET", "/v1/nope", session, "", jsonAnswer(200, `{}`)}, "no operation"},
		{"faithful readyz", exchange{"GET", "/readyz", nil, "", answer{503, map[string]string{"Content-Type": "text/plain; charset=utf-8"}, "not ready\n"}}, ""},
		{"healthz as JSON", exchange{"GET", "/healthz", nil, "", jsonAnswer(200, `{"ok":true}`)}, "Content-Type"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				for k, v := range c.ex.answer.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(c.ex.answer.status)
				io.WriteString(w, c.ex.answer.body)
			}))
			defer srv.Close()
			rec := &recorder{TB: t}
			client := apitest.New(t).For(rec).Client(srv.Client())

			var body io.Reader
			if c.ex.body != "" {
				body = strings.NewReader(c.ex.body)
			}
			req, err := http.NewRequest(c.ex.method, srv.URL+c.ex.path, body)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.ex.header {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(got) != c.ex.answer.body {
				t.Errorf("the caller got body %q, want %q: the transport must hand the body back", got, c.ex.answer.body)
			}

			for _, e := range rec.errors {
				t.Log(e)
			}
			switch {
			case c.wantErr == "" && len(rec.errors) > 0:
				t.Errorf("got reports for a faithful exchange:\n%s", strings.Join(rec.errors, "\n"))
			case c.wantErr != "" && len(rec.errors) == 0:
				t.Errorf("got no report, want one mentioning %q", c.wantErr)
			case c.wantErr != "" && !strings.Contains(strings.Join(rec.errors, "\n"), c.wantErr):
				t.Errorf("got report %q, want one mentioning %q", rec.errors, c.wantErr)
			case c.wantErr != "" && !strings.Contains(rec.errors[0], c.ex.method+" "):
				t.Errorf("got report %q, want it to name the method, path and status", rec.errors[0])
			}
		})
	}
}

func TestWithoutValidation(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusTeapot) }))
	defer srv.Close()
	rec := &recorder{TB: t}
	v := apitest.New(t).For(rec)
	req, _ := http.NewRequestWithContext(apitest.WithoutValidation(context.Background()), "GET", srv.URL+"/v1/me", nil)
	resp, err := v.Client(srv.Client()).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if len(rec.errors) > 0 || len(v.Covered()) > 0 {
		t.Errorf("got reports %q and coverage %v, want neither", rec.errors, v.Covered())
	}
}

func TestCoverage(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		io.WriteString(w, "ok\n")
	}))
	defer srv.Close()
	v := apitest.New(t)
	client := v.For(t).Client(srv.Client())
	for range 2 {
		resp, err := client.Get(srv.URL + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}

	want := apitest.Exercise{Method: "GET", Path: "/healthz", Status: 200}
	if got := v.Covered(); !slices.Equal(got, []apitest.Exercise{want}) {
		t.Errorf("Covered() = %v, want [%v]", got, want)
	}
	if slices.Contains(v.Uncovered(), want) {
		t.Errorf("Uncovered() lists %v, which was exercised", want)
	}
	if !slices.Contains(v.Uncovered(), apitest.Exercise{Method: "GET", Path: "/readyz", Status: 503}) {
		t.Error("Uncovered() misses GET /readyz 503")
	}
	ops := v.UncoveredOperations()
	if slices.Contains(ops, "GET /healthz") || !slices.Contains(ops, "POST /v1/workspaces/{ws}/keys") {
		t.Errorf("UncoveredOperations() = %v", ops)
	}
	if len(v.Uncovered())+1 != len(v.Documented()) {
		t.Errorf("got %d uncovered of %d documented answers, want all but one", len(v.Uncovered()), len(v.Documented()))
	}

	rec := &recorder{TB: t}
	v.ReportCoverage(rec, true, "GET /metrics")
	if len(rec.errors) != len(ops)-1 {
		t.Errorf("strict report: got %d errors, want one per never-called operation but the ignored one (%d)", len(rec.errors), len(ops)-1)
	}
	for _, e := range rec.errors {
		if strings.Contains(e, "/metrics") || strings.Contains(e, "/healthz") {
			t.Errorf("strict report names %q", e)
		}
	}
	rec = &recorder{TB: t}
	v.ReportCoverage(rec, false)
	if len(rec.errors) != 0 || len(rec.logs) == 0 {
		t.Errorf("lenient report: got %d errors and %d logs, want only logs", len(rec.errors), len(rec.logs))
	}
}

// One Validator serves a whole suite, parallel tests included.
func TestConcurrentUse(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, settingsJSON)
	}))
	defer srv.Close()
	v := apitest.New(t)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			req, _ := http.NewRequest("GET", srv.URL+"/v1/workspaces/"+wsID+"/settings", nil)
			req.Header.Set("Cookie", "latchkey_session=abc")
			resp, err := v.Client(srv.Client()).Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			resp.Body.Close()
		})
	}
	wg.Wait()
	if got := v.Covered(); len(got) != 1 {
		t.Errorf("Covered() = %v, want one answer", got)
	}
}
