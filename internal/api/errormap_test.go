package api_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/api"
	"github.com/latchkey/latchkey/internal/manage"
)

// The management layer is what the API is written against.
var (
	_ api.Service       = (*manage.Service)(nil)
	_ api.Authenticator = (*keyring)(nil)
)

// secretish is in every internal error the service returns here: an
// answer quoting it leaks what the caller must never see.
const secretish = "dial tcp 10.9.8.7:5432: password=hunter2"

// failing answers every call of the API's handlers with err, after
// resolving the caller (a session of an owner) unless authErr is set, in
// which case resolving the caller fails with it. It implements the
// interface the API declares, so the error mapping is tested without a
// store.
type failing struct {
	err, authErr error
	failed       int // calls answered with err or authErr
}

func (f *failing) fail(err error) error {
	f.failed++
	return err
}

func (f *failing) SessionUser(context.Context, string) (*latchkey.User, error) {
	if f.authErr != nil {
		return nil, f.fail(f.authErr)
	}
	return &latchkey.User{ID: "usr_1", Email: "owner@acme.test"}, nil
}

func (f *failing) Principal(_ context.Context, c manage.Caller, ws string) (latchkey.Principal, error) {
	if f.authErr != nil {
		return latchkey.Principal{}, f.fail(f.authErr)
	}
	return latchkey.Principal{Kind: latchkey.PrincipalUser, UserID: "usr_1", WorkspaceID: ws, Role: latchkey.RoleOwner}, nil
}

func (f *failing) Login(context.Context, string, string, string) (*latchkey.User, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) Logout(context.Context, *latchkey.User, string, string) error { return f.fail(f.err) }
func (f *failing) Me(context.Context, manage.Caller) (*manage.Me, error)        { return nil, f.fail(f.err) }
func (f *failing) ChangePassword(context.Context, manage.Caller, string, string, string) error {
	return f.fail(f.err)
}
func (f *failing) Catalog() *latchkey.Catalog { return &latchkey.Catalog{} }
func (f *failing) SessionTTL() time.Duration  { return time.Hour }
func (f *failing) Now() time.Time             { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }
func (f *failing) NoticeWindows(context.Context, string) ([]latchkey.Duration, error) {
	return nil, f.fail(f.err)
}
func (f *failing) CreateKey(context.Context, latchkey.Principal, string, manage.CreateKey) (*latchkey.Key, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) ListKeys(context.Context, latchkey.Principal, string, latchkey.KeyFilter) ([]*latchkey.Key, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) Key(context.Context, latchkey.Principal, string, string) (*latchkey.Key, error) {
	return nil, f.fail(f.err)
}
func (f *failing) UpdateKey(context.Context, latchkey.Principal, string, string, manage.UpdateKey) (*latchkey.Key, error) {
	return nil, f.fail(f.err)
}
func (f *failing) ReportLeaksFromGitHub(context.Context, []manage.LeakReport) ([]manage.LeakLabel, error) {
	return nil, f.fail(f.err)
}
func (f *failing) ReportLeaks(context.Context, latchkey.Principal, []manage.LeakReport) ([]manage.LeakLabel, error) {
	return nil, f.fail(f.err)
}
func (f *failing) DisableKey(context.Context, latchkey.Principal, string, string) (*latchkey.Key, error) {
	return nil, f.fail(f.err)
}
func (f *failing) EnableKey(context.Context, latchkey.Principal, string, string) (*latchkey.Key, error) {
	return nil, f.fail(f.err)
}
func (f *failing) RevokeKey(context.Context, latchkey.Principal, string, string) (*latchkey.Key, error) {
	return nil, f.fail(f.err)
}
func (f *failing) ResetKey(context.Context, latchkey.Principal, string, string, time.Duration) (*latchkey.Key, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) DeleteKey(context.Context, latchkey.Principal, string, string) error {
	return f.fail(f.err)
}
func (f *failing) KeyUsage(context.Context, latchkey.Principal, string, string, time.Time, time.Time) ([]latchkey.UsageDay, error) {
	return nil, f.fail(f.err)
}
func (f *failing) KeyUsageTags(context.Context, latchkey.Principal, string, string, time.Time, time.Time) ([]latchkey.UsageTag, error) {
	return nil, f.fail(f.err)
}
func (f *failing) Members(context.Context, latchkey.Principal, string) ([]*latchkey.Member, error) {
	return nil, f.fail(f.err)
}
func (f *failing) AddMember(context.Context, latchkey.Principal, string, manage.AddMember) (*latchkey.Member, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) UpdateMember(context.Context, latchkey.Principal, string, string, latchkey.Role) (*latchkey.Member, error) {
	return nil, f.fail(f.err)
}
func (f *failing) RemoveMember(context.Context, latchkey.Principal, string, string) error {
	return f.fail(f.err)
}
func (f *failing) InviteMember(context.Context, latchkey.Principal, string, string) (string, error) {
	return "", f.fail(f.err)
}
func (f *failing) AcceptInvite(context.Context, string, string, *latchkey.User, string) (*latchkey.User, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) Events(context.Context, latchkey.Principal, string, latchkey.EventFilter) ([]*latchkey.Event, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) EventHead(context.Context, latchkey.Principal, string) (latchkey.ChainHead, error) {
	return latchkey.ChainHead{}, f.fail(f.err)
}
func (f *failing) ExportEvents(context.Context, latchkey.Principal, string, latchkey.EventFilter, func(*latchkey.Event) error) error {
	return f.fail(f.err)
}
func (f *failing) Settings(context.Context, latchkey.Principal, string) (*latchkey.Settings, error) {
	return nil, f.fail(f.err)
}
func (f *failing) UpdateSettings(context.Context, latchkey.Principal, string, manage.SettingsPatch) (*latchkey.Settings, error) {
	return nil, f.fail(f.err)
}
func (f *failing) Workspaces(context.Context, latchkey.Principal) ([]*latchkey.Workspace, error) {
	return nil, f.fail(f.err)
}
func (f *failing) CreateWorkspace(context.Context, latchkey.Principal, manage.NewWorkspace) (*latchkey.Workspace, *latchkey.Member, string, error) {
	return nil, nil, "", f.fail(f.err)
}
func (f *failing) RevealWebhookSecretInfo(context.Context, latchkey.Principal, string) (*manage.WebhookSecretInfo, error) {
	return nil, f.fail(f.err)
}
func (f *failing) RotateWebhookSecretKeeping(context.Context, latchkey.Principal, string, time.Duration) (*manage.WebhookSecretInfo, error) {
	return nil, f.fail(f.err)
}
func (f *failing) RequestScimKey(context.Context, latchkey.Principal, string, string, string) (*latchkey.ScimKeyRequest, error) {
	return nil, f.fail(f.err)
}
func (f *failing) ScimKeyRequests(context.Context, latchkey.Principal, string) ([]*latchkey.ScimKeyRequest, error) {
	return nil, f.fail(f.err)
}
func (f *failing) ApproveScimKeyRequest(context.Context, latchkey.Principal, string) (*latchkey.ScimKeyRequest, error) {
	return nil, f.fail(f.err)
}
func (f *failing) PickUpScimKey(context.Context, latchkey.Principal, string, string) (*latchkey.Key, string, error) {
	return nil, "", f.fail(f.err)
}

// keyring answers every presented key with one verification outcome.
type keyring struct{ code latchkey.VerifyCode }

func (k keyring) Authenticate(context.Context, string) (*latchkey.Key, latchkey.VerifyCode) {
	if k.code != "" {
		return nil, k.code
	}
	return &latchkey.Key{ID: "key_1", Type: latchkey.TypeManagement}, ""
}

// routes is every route of the API that reaches the service, with a body
// its decoding accepts, so the injected error is what decides the answer.
var routes = []struct{ method, path, body string }{
	{"POST", "/v1/auth/login", `{"email":"a@b.test","password":"pw"}`},
	{"POST", "/v1/auth/logout", ""},
	{"GET", "/v1/me", ""},
	{"GET", "/v1/workspaces/ws_1/settings", ""},
	{"PATCH", "/v1/workspaces/ws_1/settings", `{}`},
	{"POST", "/v1/workspaces/ws_1/keys", `{"name":"k"}`},
	{"GET", "/v1/workspaces/ws_1/keys", ""},
	{"GET", "/v1/workspaces/ws_1/keys/key_1", ""},
	{"PATCH", "/v1/workspaces/ws_1/keys/key_1", `{"name":"n"}`},
	{"DELETE", "/v1/workspaces/ws_1/keys/key_1", ""},
	{"POST", "/v1/workspaces/ws_1/keys/key_1/revoke", ""},
	{"POST", "/v1/workspaces/ws_1/keys/key_1/reset", ""},
	{"GET", "/v1/workspaces/ws_1/keys/key_1/usage", ""},
	{"GET", "/v1/workspaces/ws_1/keys/key_1/usage/tags", ""},
	{"GET", "/v1/workspaces/ws_1/events", ""},
	{"GET", "/v1/workspaces/ws_1/events/head", ""},
	{"GET", "/v1/workspaces/ws_1/events/export", ""},
	{"GET", "/v1/workspaces/ws_1/events/export?format=csv", ""},
	{"GET", "/v1/workspaces/ws_1/members", ""},
	{"POST", "/v1/workspaces/ws_1/members", `{"email":"new@acme.test"}`},
	{"PATCH", "/v1/workspaces/ws_1/members/usr_2", `{"role":"admin"}`},
	{"DELETE", "/v1/workspaces/ws_1/members/usr_2", ""},
	{"POST", "/v1/workspaces/ws_1/members/usr_2/invite", ""},
	{"POST", "/v1/auth/accept-invite", `{"token":"t","password":"pw"}`},
	{"POST", "/v1/me/password", `{"current_password":"a","new_password":"b"}`},
	{"GET", "/v1/workspaces", ""},
	{"POST", "/v1/workspaces", `{"name":"New","owner":{"email":"o@new.test"}}`},
	{"GET", "/v1/workspaces/ws_1/scim-key-requests", ""},
	{"POST", "/v1/workspaces/ws_1/scim-key-requests", `{"contact_email":"it@acme.test","integration":"okta"}`},
	{"GET", "/v1/scim-key-requests", ""},
	{"POST", "/v1/workspaces/ws_1/scim-key-requests/req_1/pickup", ""},
	{"POST", "/v1/scim-key-requests/req_1/approve", ""},
	{"POST", "/v1/scim-key-requests/req_1/issue", ""},
	{"POST", "/v1/platform-keys", `{"name":"backend","scopes":["portal:write"]}`},
	{"GET", "/v1/platform-keys", ""},
	{"POST", "/v1/platform-keys/pk_1/revoke", ""},
	{"PUT", "/v1/workspaces/ws_1/members/by-external-id/u-1", `{"email":"a@acme.test","role":"member"}`},
	{"DELETE", "/v1/workspaces/ws_1/members/by-external-id/u-1", ""},
	{"POST", "/v1/portal/sessions", `{"workspace_id":"ws_1","user":{"external_id":"u-1","email":"a@acme.test"}}`},
}

// errorCase is an error the service may return and the answer it must get.
type errorCase struct {
	name   string
	err    error
	status int
	code   latchkey.Code
	// message is the answer's message; "" for internal errors, whose
	// message quotes the request id and nothing else.
	message string
}

func errorCases() []errorCase {
	codes := []struct {
		code   latchkey.Code
		status int
	}{
		{latchkey.EINVALID, 400}, {latchkey.EUNAUTHORIZED, 401}, {latchkey.EFORBIDDEN, 403},
		{latchkey.ENOTFOUND, 404}, {latchkey.ECONFLICT, 409}, {latchkey.ETOOLARGE, 413},
		{latchkey.EUNSUPPORTED, 415}, {latchkey.EUNPROCESSABLE, 422}, {latchkey.ERATELIMITED, 429},
		{latchkey.EUNAVAILABLE, 503}, {latchkey.EINTERNAL, 500},
	}
	var cs []errorCase
	for _, c := range codes {
		msg := "the " + string(c.code) + " message"
		want := msg
		if c.code == latchkey.EINTERNAL {
			want = ""
		}
		// Wrapped, as the service wraps what its store returns.
		err := fmt.Errorf("manage: %w", latchkey.Errorf(c.code, "%s", msg))
		if c.code == latchkey.EINTERNAL {
			err = fmt.Errorf("%s: %w", secretish, latchkey.Errorf(c.code, "%s", secretish))
		}
		cs = append(cs, errorCase{string(c.code), err, c.status, c.code, want})
	}
	return append(cs,
		errorCase{"plain error", errors.New(secretish), 500, latchkey.EINTERNAL, ""},
		errorCase{"context deadline", fmt.Errorf("%s: %w", secretish, context.DeadlineExceeded), 503, latchkey.EUNAVAILABLE, "the request took too long; retry shortly"},
		errorCase{"context canceled", fmt.Errorf("%s: %w", secretish, context.Canceled), 500, latchkey.EINTERNAL, ""},
	)
}

type answer struct {
	status int
	header http.Header
	body   struct {
		Error struct {
			Code    latchkey.Code  `json:"code"`
			Message string         `json:"message"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	raw string
}

// serve runs the API over svc and keys on a real listener; every answer
// carries the request id the server's middleware would set.
func serve(t *testing.T, svc api.Service, keys api.Authenticator) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	api.New(api.Config{Service: svc, Keys: keys, Logger: slog.New(slog.DiscardHandler)}).Register(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req_42")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

func call(t *testing.T, srv *httptest.Server, method, path, body string, auth func(*http.Request)) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	auth(req)
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	a := answer{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if err := json.Unmarshal(b, &a.body); err != nil {
		t.Fatalf("%s %s: the answer is not JSON: %v: %q", method, path, err, b)
	}
	return a
}

func session(r *http.Request) {
	r.AddCookie(&http.Cookie{Name: api.SessionCookie, Value: "session-token"})
}

// check asserts that a carries c in the API's one error shape and leaks
// nothing the service said internally.
func check(t *testing.T, what string, a answer, c errorCase) {
	t.Helper()
	e := a.body.Error
	if a.status != c.status || e.Code != c.code {
		t.Errorf("%s: got %d %q, want %d %q", what, a.status, e.Code, c.status, c.code)
	}
	if ct := a.header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s: Content-Type: got %q, want application/json", what, ct)
	}
	if e.Details == nil {
		t.Errorf("%s: details: got null, want an object", what)
	}
	switch {
	case c.message != "" && e.Message != c.message:
		t.Errorf("%s: message: got %q, want %q", what, e.Message, c.message)
	case c.message == "" && (!strings.Contains(e.Message, "req_42") || e.Details["request_id"] != "req_42"):
		t.Errorf("%s: an internal error's answer: got %q %v, want the request id req_42 quoted", what, e.Message, e.Details)
	}
	for _, leak := range []string{"hunter2", "10.9.8.7", "dial tcp", "manage:", "context"} {
		if strings.Contains(a.raw, leak) {
			t.Errorf("%s: the answer leaks %q: %s", what, leak, a.raw)
		}
	}
	if c.status == 401 && a.header.Get("WWW-Authenticate") == "" {
		t.Errorf("%s: a 401 without WWW-Authenticate", what)
	}
}

// TestErrorMappingOfEveryRoute injects each kind of error the service can
// return into every route, first where the handler calls the service and
// then where the caller is resolved, and checks the answer.
func TestErrorMappingOfEveryRoute(t *testing.T) {
	for _, c := range errorCases() {
		t.Run(c.name, func(t *testing.T) {
			f := &failing{err: c.err}
			srv := serve(t, f, keyring{})
			for _, r := range routes {
				before := f.failed
				a := call(t, srv, r.method, r.path, r.body, session)
				if f.failed == before {
					t.Errorf("%s %s: the handler answered %d without calling the service: %s", r.method, r.path, a.status, a.raw)
					continue
				}
				check(t, r.method+" "+r.path, a, c)
			}
			// The same error while resolving the caller: the session, then
			// the principal in the workspace (or on the platform).
			auth := &failing{authErr: c.err}
			srv = serve(t, auth, keyring{})
			for _, r := range routes {
				if r.path == "/v1/auth/login" || r.path == "/v1/auth/accept-invite" {
					continue // anonymous routes: they resolve no caller
				}
				before := auth.failed
				a := call(t, srv, r.method, r.path, r.body, session)
				if auth.failed == before {
					t.Errorf("%s %s: answered %d without resolving the caller", r.method, r.path, a.status)
					continue
				}
				check(t, "resolving the caller of "+r.method+" "+r.path, a, c)
			}
		})
	}
}

// TestRefusedKeyMapping: a management key the verify cache refuses is a 401
// naming the reason, and an outage of the key store is a 503, never a
// refusal a client would treat as a bad key.
func TestRefusedKeyMapping(t *testing.T) {
	bearer := func(r *http.Request) { r.Header.Set("Authorization", "Bearer lk_presented") }
	refusals := []latchkey.VerifyCode{latchkey.KeyMalformed, latchkey.KeyInvalid, latchkey.KeyExpired, latchkey.KeyRevoked,
		latchkey.OwnerDeprovisioned}
	for _, code := range refusals {
		f := &failing{err: errors.New("unreached")}
		a := call(t, serve(t, f, keyring{code}), "GET", "/v1/workspaces/ws_1/keys", "", bearer)
		check(t, string(code), a, errorCase{status: 401, code: latchkey.EUNAUTHORIZED, message: "the key was refused: " + string(code)})
		if a.body.Error.Details["reason"] != string(code) {
			t.Errorf("%s: details: got %v, want reason %q", code, a.body.Error.Details, code)
		}
		if f.failed != 0 {
			t.Errorf("%s: a refused key reached the service", code)
		}
	}
	// Too fast or out of credits: a 429 to retry, not a bad key.
	for _, code := range []latchkey.VerifyCode{latchkey.RateLimited, latchkey.UsageExceeded} {
		a := call(t, serve(t, &failing{}, keyring{code}), "GET", "/v1/workspaces/ws_1/keys", "", bearer)
		if a.status != 429 || a.body.Error.Code != latchkey.ERATELIMITED || a.body.Error.Details["reason"] != string(code) {
			t.Errorf("%s: got %d %q %v, want 429 rate_limited with the reason", code, a.status, a.body.Error.Code, a.body.Error.Details)
		}
	}
	a := call(t, serve(t, &failing{}, keyring{latchkey.VerifyUnavailable}), "GET", "/v1/workspaces/ws_1/keys", "", bearer)
	if a.status != 503 || a.body.Error.Code != latchkey.EUNAVAILABLE || a.body.Error.Details["reason"] != nil {
		t.Errorf("key store outage: got %d %q %v, want 503 unavailable without a refusal reason", a.status, a.body.Error.Code, a.body.Error.Details)
	}
	if a.header.Get("WWW-Authenticate") != "" {
		t.Error("key store outage: answered with a challenge, as for a bad key")
	}
}
