package scim_test

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

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/scim"
)

// The management layer and the verify cache are what SCIM is written
// against.
var (
	_ scim.Service       = (*manage.Service)(nil)
	_ scim.Authenticator = keyring{}
)

// secretish is in every internal error the service returns here: an
// answer quoting it leaks what an identity provider must never see.
const secretish = "dial tcp 10.9.8.7:5432: password=hunter2"

// failing answers every call of the SCIM handlers with err, after
// resolving the SCIM key's workspace unless tenantErr is set, in which
// case resolving it fails with that.
type failing struct {
	err, tenantErr error
	failed         int
}

func (f *failing) fail(err error) error {
	f.failed++
	return err
}

func (f *failing) ScimPrincipal(k *latchkey.Key, ip string) (latchkey.Principal, error) {
	if f.tenantErr != nil {
		return latchkey.Principal{}, f.fail(f.tenantErr)
	}
	return latchkey.Principal{Kind: latchkey.PrincipalSCIM, KeyID: k.ID, WorkspaceID: k.WorkspaceID, IP: ip}, nil
}

func (f *failing) ScimSettings(context.Context, latchkey.Principal) (latchkey.Settings, error) {
	if f.tenantErr != nil {
		return latchkey.Settings{}, f.fail(f.tenantErr)
	}
	// Custom attributes on, so that /Schemas asks the service too.
	return latchkey.Settings{ScimCustomAttributes: true}, nil
}

func (f *failing) ScimExtensionAttrs(context.Context, latchkey.Principal) ([]latchkey.ScimExtensionAttr, error) {
	return nil, f.fail(f.err)
}
func (f *failing) ScimUsers(context.Context, latchkey.Principal, latchkey.ScimQuery) ([]*latchkey.ScimUser, int, error) {
	return nil, 0, f.fail(f.err)
}
func (f *failing) ScimUser(context.Context, latchkey.Principal, string) (*latchkey.ScimUser, error) {
	return nil, f.fail(f.err)
}
func (f *failing) CreateScimUser(context.Context, latchkey.Principal, *latchkey.ScimUser) (*latchkey.ScimUser, error) {
	return nil, f.fail(f.err)
}
func (f *failing) UpdateScimUser(context.Context, latchkey.Principal, string, func(*latchkey.ScimUser) error) (*latchkey.ScimUser, error) {
	return nil, f.fail(f.err)
}
func (f *failing) DeleteScimUser(context.Context, latchkey.Principal, string) error {
	return f.fail(f.err)
}
func (f *failing) ScimGroups(context.Context, latchkey.Principal, latchkey.ScimQuery) ([]*latchkey.ScimGroup, int, error) {
	return nil, 0, f.fail(f.err)
}
func (f *failing) ScimGroup(context.Context, latchkey.Principal, string) (*latchkey.ScimGroup, error) {
	return nil, f.fail(f.err)
}
func (f *failing) CreateScimGroup(context.Context, latchkey.Principal, *latchkey.ScimGroup) (*latchkey.ScimGroup, error) {
	return nil, f.fail(f.err)
}
func (f *failing) UpdateScimGroup(context.Context, latchkey.Principal, string, func(*latchkey.ScimGroup) error) (*latchkey.ScimGroup, error) {
	return nil, f.fail(f.err)
}
func (f *failing) DeleteScimGroup(context.Context, latchkey.Principal, string) error {
	return f.fail(f.err)
}

// keyring answers every presented key with one verification outcome.
type keyring struct{ code latchkey.VerifyCode }

func (k keyring) Authenticate(context.Context, string) (*latchkey.Key, latchkey.VerifyCode) {
	if k.code != "" {
		return nil, k.code
	}
	return &latchkey.Key{ID: "key_s", WorkspaceID: "ws_1", Type: latchkey.TypeSCIM}, ""
}

const (
	userSchema  = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"]`
	groupSchema = `"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"]`
	patchOp     = `"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"]`
)

// requests is every SCIM operation that reaches the service, with a body
// its parsing accepts, so the injected error is what decides the answer.
var requests = []struct{ method, path, body string }{
	{"GET", "/scim/v2/Users", ""},
	{"GET", "/scim/v2/Users?filter=userName%20eq%20%22a%40b.test%22", ""},
	{"POST", "/scim/v2/Users", `{` + userSchema + `,"userName":"a@b.test"}`},
	{"GET", "/scim/v2/Users/usr_1", ""},
	{"PUT", "/scim/v2/Users/usr_1", `{` + userSchema + `,"userName":"a@b.test","active":false}`},
	{"PATCH", "/scim/v2/Users/usr_1", `{` + patchOp + `,"Operations":[{"op":"replace","path":"active","value":false}]}`},
	{"DELETE", "/scim/v2/Users/usr_1", ""},
	{"GET", "/scim/v2/Groups", ""},
	{"POST", "/scim/v2/Groups", `{` + groupSchema + `,"displayName":"Eng"}`},
	{"GET", "/scim/v2/Groups/grp_1", ""},
	{"PUT", "/scim/v2/Groups/grp_1", `{` + groupSchema + `,"displayName":"Eng"}`},
	{"PATCH", "/scim/v2/Groups/grp_1", `{` + patchOp + `,"Operations":[{"op":"replace","path":"displayName","value":"Ops"}]}`},
	{"DELETE", "/scim/v2/Groups/grp_1", ""},
	{"GET", "/scim/v2/Schemas", ""},
}

type scimError struct {
	status   int
	code     latchkey.Code // what the service said, for the failure message
	scimType string
	detail   string // "" for internal errors: the request id only
}

func errorCases() []struct {
	name string
	err  error
	want scimError
} {
	type c = struct {
		name string
		err  error
		want scimError
	}
	msg := func(code latchkey.Code) string { return "the " + string(code) + " message" }
	wrap := func(code latchkey.Code) error {
		return fmt.Errorf("manage: %w", latchkey.Errorf(code, "%s", msg(code)))
	}
	cs := []c{
		{"invalid", wrap(latchkey.EINVALID), scimError{400, latchkey.EINVALID, "invalidValue", msg(latchkey.EINVALID)}},
		{"unprocessable", wrap(latchkey.EUNPROCESSABLE), scimError{400, latchkey.EUNPROCESSABLE, "invalidValue", msg(latchkey.EUNPROCESSABLE)}},
		{"unauthenticated", wrap(latchkey.EUNAUTHORIZED), scimError{401, latchkey.EUNAUTHORIZED, "", msg(latchkey.EUNAUTHORIZED)}},
		{"forbidden", wrap(latchkey.EFORBIDDEN), scimError{403, latchkey.EFORBIDDEN, "", msg(latchkey.EFORBIDDEN)}},
		{"not found", wrap(latchkey.ENOTFOUND), scimError{404, latchkey.ENOTFOUND, "", msg(latchkey.ENOTFOUND)}},
		{"conflict", wrap(latchkey.ECONFLICT), scimError{409, latchkey.ECONFLICT, "uniqueness", msg(latchkey.ECONFLICT)}},
		{"too large", wrap(latchkey.ETOOLARGE), scimError{413, latchkey.ETOOLARGE, "", msg(latchkey.ETOOLARGE)}},
		{"unsupported", wrap(latchkey.EUNSUPPORTED), scimError{415, latchkey.EUNSUPPORTED, "", msg(latchkey.EUNSUPPORTED)}},
		{"rate limited", wrap(latchkey.ERATELIMITED), scimError{429, latchkey.ERATELIMITED, "", msg(latchkey.ERATELIMITED)}},
		{"unavailable", wrap(latchkey.EUNAVAILABLE), scimError{503, latchkey.EUNAVAILABLE, "", msg(latchkey.EUNAVAILABLE)}},
		{"internal", fmt.Errorf("%s: %w", secretish, latchkey.Errorf(latchkey.EINTERNAL, "%s", secretish)), scimError{500, latchkey.EINTERNAL, "", ""}},
		// A precise scimType the service names wins over the code's default.
		{"mutability", latchkey.Errorf(latchkey.EINVALID, "the last owner cannot be deprovisioned").WithDetail("scim_type", "mutability"),
			scimError{400, latchkey.EINVALID, "mutability", "the last owner cannot be deprovisioned"}},
		{"plain error", errors.New(secretish), scimError{500, latchkey.EINTERNAL, "", ""}},
		{"context deadline", fmt.Errorf("%s: %w", secretish, context.DeadlineExceeded), scimError{503, latchkey.EUNAVAILABLE, "", "the request took too long; retry shortly"}},
		{"context canceled", fmt.Errorf("%s: %w", secretish, context.Canceled), scimError{500, latchkey.EINTERNAL, "", ""}},
	}
	return cs
}

func serve(t *testing.T, svc scim.Service, keys scim.Authenticator) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	scim.New(scim.Config{Service: svc, Keys: keys, Logger: slog.New(slog.DiscardHandler)}).Register(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req_42")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type answer struct {
	status int
	header http.Header
	raw    string
	body   struct {
		Schemas  []string `json:"schemas"`
		Status   string   `json:"status"`
		ScimType string   `json:"scimType"`
		Detail   string   `json:"detail"`
	}
}

func call(t *testing.T, srv *httptest.Server, method, path, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer lk_presented")
	if body != "" {
		req.Header.Set("Content-Type", scim.ContentType)
	}
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

// check asserts that a is SCIM's Error message for want and leaks nothing
// the service said internally.
func check(t *testing.T, what string, a answer, want scimError) {
	t.Helper()
	if a.status != want.status || a.body.Status != fmt.Sprint(want.status) || a.body.ScimType != want.scimType {
		t.Errorf("%s (%s): got %d status %q scimType %q, want %d scimType %q", what, want.code, a.status, a.body.Status, a.body.ScimType, want.status, want.scimType)
	}
	if len(a.body.Schemas) != 1 || a.body.Schemas[0] != "urn:ietf:params:scim:api:messages:2.0:Error" {
		t.Errorf("%s: schemas: got %v, want the SCIM Error schema", what, a.body.Schemas)
	}
	if ct := a.header.Get("Content-Type"); ct != scim.ContentType {
		t.Errorf("%s: Content-Type: got %q, want %q", what, ct, scim.ContentType)
	}
	switch {
	case want.detail != "" && a.body.Detail != want.detail:
		t.Errorf("%s: detail: got %q, want %q", what, a.body.Detail, want.detail)
	case want.detail == "" && !strings.Contains(a.body.Detail, "req_42"):
		t.Errorf("%s: an internal error's detail: got %q, want the request id req_42 quoted", what, a.body.Detail)
	}
	for _, leak := range []string{"hunter2", "10.9.8.7", "dial tcp", "manage:", "context"} {
		if strings.Contains(a.raw, leak) {
			t.Errorf("%s: the answer leaks %q: %s", what, leak, a.raw)
		}
	}
	if want.status == 401 && a.header.Get("WWW-Authenticate") == "" {
		t.Errorf("%s: a 401 without WWW-Authenticate", what)
	}
}

// TestErrorMappingOfEveryOperation injects each kind of error the service
// can return into every SCIM operation, then into resolving the key's
// workspace, and checks SCIM's error message.
func TestErrorMappingOfEveryOperation(t *testing.T) {
	for _, c := range errorCases() {
		t.Run(c.name, func(t *testing.T) {
			f := &failing{err: c.err}
			srv := serve(t, f, keyring{})
			for _, r := range requests {
				before := f.failed
				a := call(t, srv, r.method, r.path, r.body)
				if f.failed == before {
					t.Errorf("%s %s: answered %d without calling the service: %s", r.method, r.path, a.status, a.raw)
					continue
				}
				check(t, r.method+" "+r.path, a, c.want)
			}
			tenant := &failing{tenantErr: c.err}
			a := call(t, serve(t, tenant, keyring{}), "GET", "/scim/v2/Users", "")
			if tenant.failed == 0 {
				t.Fatalf("resolving the tenant: answered %d without calling the service", a.status)
			}
			check(t, "resolving the tenant", a, c.want)
		})
	}
}

// TestRefusedSCIMKeyMapping: a refused SCIM key is a 401 naming the reason
// (a 429 when it is only rate limited or out of credits);
// an outage of the key store is a 503, which identity providers retry,
// never a 401, which makes them disable provisioning.
func TestRefusedSCIMKeyMapping(t *testing.T) {
	for _, code := range []latchkey.VerifyCode{latchkey.KeyMalformed, latchkey.KeyInvalid, latchkey.KeyExpired,
		latchkey.KeyRevoked, latchkey.OwnerDeprovisioned} {
		f := &failing{err: errors.New("unreached"), tenantErr: errors.New("unreached")}
		a := call(t, serve(t, f, keyring{code}), "GET", "/scim/v2/Users", "")
		check(t, string(code), a, scimError{401, latchkey.EUNAUTHORIZED, "", "the key was refused: " + string(code)})
		if f.failed != 0 {
			t.Errorf("%s: a refused key reached the service", code)
		}
	}
	// A key that is only too fast, or out of credits, is a 429 the
	// identity provider retries later, not a 401 that stops provisioning.
	for code, msg := range map[latchkey.VerifyCode]string{latchkey.RateLimited: "the key has exceeded its rate limit; retry shortly",
		latchkey.UsageExceeded: "the key has used all its credits"} {
		a := call(t, serve(t, &failing{}, keyring{code}), "GET", "/scim/v2/Users", "")
		check(t, string(code), a, scimError{429, latchkey.ERATELIMITED, "", msg})
	}
	a := call(t, serve(t, &failing{}, keyring{latchkey.VerifyUnavailable}), "GET", "/scim/v2/Users", "")
	check(t, "key store outage", a, scimError{503, latchkey.EUNAVAILABLE, "", "the key store does not answer; retry shortly"})
	if a.header.Get("WWW-Authenticate") != "" {
		t.Error("key store outage: answered with a challenge, as for a bad key")
	}
}
