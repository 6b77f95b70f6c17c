package console_test

import (
	"context"
	"errors"
	"fmt"
	"html"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/console"
	"github.com/latchkey/latchkey/internal/manage"
)

// The management layer is what the console is written against.
var _ console.Service = (*manage.Service)(nil)

// secretish is in every internal error the service returns here: a page
// quoting it leaks what the visitor must never see.
const secretish = "dial tcp 10.9.8.7:5432: password=hunter2"

// failing answers every call of the console's pages with err, after
// resolving the visitor (an owner of ws_1 who is also an operator) unless
// authErr is set, in which case resolving the visitor fails with it.
type failing struct {
	err, authErr error
	failed       int
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

func (f *failing) Me(_ context.Context, c manage.Caller) (*manage.Me, error) {
	return &manage.Me{User: c.User, Workspaces: []manage.MemberWorkspace{{ID: "ws_1", Name: "Acme", Role: latchkey.RoleOwner, Active: true}}}, nil
}

func (f *failing) Principal(_ context.Context, c manage.Caller, ws string) (latchkey.Principal, error) {
	if f.authErr != nil {
		return latchkey.Principal{}, f.fail(f.authErr)
	}
	if ws == "" {
		return latchkey.Principal{Kind: latchkey.PrincipalOperator, UserID: c.User.ID}, nil
	}
	return latchkey.Principal{Kind: latchkey.PrincipalUser, UserID: c.User.ID, WorkspaceID: ws, Role: latchkey.RoleOwner}, nil
}

func (f *failing) Login(context.Context, string, string, string) (*latchkey.User, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) Logout(context.Context, *latchkey.User, string, string) error { return f.fail(f.err) }
func (f *failing) SessionTTL() time.Duration                                    { return time.Hour }
func (f *failing) Invitation(context.Context, string) (*manage.Invitation, error) {
	return nil, f.fail(f.err)
}
func (f *failing) AcceptInvite(context.Context, string, string, *latchkey.User, string) (*latchkey.User, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) ChangePassword(context.Context, manage.Caller, string, string, string) error {
	return f.fail(f.err)
}
func (f *failing) Catalog() *latchkey.Catalog { return &latchkey.Catalog{} }
func (f *failing) Now() time.Time             { return time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC) }
func (f *failing) ListKeys(context.Context, latchkey.Principal, string, latchkey.KeyFilter) ([]*latchkey.Key, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) Key(context.Context, latchkey.Principal, string, string) (*latchkey.Key, error) {
	return nil, f.fail(f.err)
}
func (f *failing) CreateKey(context.Context, latchkey.Principal, string, manage.CreateKey) (*latchkey.Key, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) UpdateKey(context.Context, latchkey.Principal, string, string, manage.UpdateKey) (*latchkey.Key, error) {
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
func (f *failing) Settings(context.Context, latchkey.Principal, string) (*latchkey.Settings, error) {
	return nil, f.fail(f.err)
}
func (f *failing) UpdateSettings(context.Context, latchkey.Principal, string, manage.SettingsPatch) (*latchkey.Settings, error) {
	return nil, f.fail(f.err)
}
func (f *failing) RevealWebhookSecret(context.Context, latchkey.Principal, string) (string, error) {
	return "", f.fail(f.err)
}
func (f *failing) RotateWebhookSecret(context.Context, latchkey.Principal, string) (string, error) {
	return "", f.fail(f.err)
}
func (f *failing) Events(context.Context, latchkey.Principal, string, latchkey.EventFilter) ([]*latchkey.Event, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) ListVaults(context.Context, latchkey.Principal, string) ([]*latchkey.Vault, error) {
	return nil, f.fail(f.err)
}
func (f *failing) CreateVault(context.Context, latchkey.Principal, string, manage.CreateVault) (*latchkey.Vault, error) {
	return nil, f.fail(f.err)
}
func (f *failing) Vault(context.Context, latchkey.Principal, string, string) (*latchkey.Vault, []*latchkey.VaultSecret, error) {
	return nil, nil, f.fail(f.err)
}
func (f *failing) CreateSecret(context.Context, latchkey.Principal, string, string, manage.CreateSecret) (*latchkey.VaultSecret, error) {
	return nil, f.fail(f.err)
}
func (f *failing) Secret(context.Context, latchkey.Principal, string, string, string) (*latchkey.VaultSecret, error) {
	return nil, f.fail(f.err)
}
func (f *failing) RevealSecret(context.Context, latchkey.Principal, string, string, string, string) (string, error) {
	return "", f.fail(f.err)
}
func (f *failing) SaveKeyToVault(context.Context, latchkey.Principal, string, string, string, string) (*latchkey.VaultSecret, error) {
	return nil, f.fail(f.err)
}
func (f *failing) Mails(context.Context, latchkey.Principal, string, int, string) ([]*latchkey.Mail, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) WebhookDeliveries(context.Context, latchkey.Principal, string, int) ([]manage.WebhookDelivery, error) {
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
func (f *failing) Workspaces(context.Context, latchkey.Principal) ([]*latchkey.Workspace, error) {
	return nil, f.fail(f.err)
}
func (f *failing) CreateWorkspace(context.Context, latchkey.Principal, manage.NewWorkspace) (*latchkey.Workspace, *latchkey.Member, string, error) {
	return nil, nil, "", f.fail(f.err)
}

// pages is every console page that asks the service something.
var pages = []string{
	"/w/ws_1/keys", "/w/ws_1/keys/key_1", "/w/ws_1/keys/key_1/reset", "/w/ws_1/keys/key_1/revoke",
	"/w/ws_1/keys/key_1/delete", "/w/ws_1/profile/keys", "/w/ws_1/activity", "/w/ws_1/outbox",
	"/w/ws_1/members", "/w/ws_1/settings", "/w/ws_1/scim", "/operator/workspaces", "/operator/scim-requests",
	"/invite?token=t", "/w/ws_1/vaults", "/w/ws_1/vaults/vlt_1", "/w/ws_1/vaults/vlt_1/secrets/sec_1/reveal", "/operator/platform-keys", "/portal?token=t",
}

// actions is every form whose failure leaves the form (the service did
// not pageAnswer, or the object is not there), with fields its parsing accepts.
var actions = []struct {
	path string
	form url.Values
}{
	{"/login", url.Values{"email": {"a@b.test"}, "password": {"pw"}}},
	{"/logout", nil},
	{"/w/ws_1/keys/key_1", url.Values{"name": {"n"}}},
	{"/w/ws_1/keys/key_1/reset", nil},
	{"/w/ws_1/keys/key_1/revoke", nil},
	{"/w/ws_1/keys/key_1/delete", nil},
	{"/w/ws_1/profile/password", url.Values{"current": {"a"}, "new": {"correct horse battery"}, "confirm": {"correct horse battery"}}},
	{"/w/ws_1/settings/webhook-secret/reveal", nil},
	{"/w/ws_1/members", url.Values{"email": {"new@acme.test"}, "role": {"member"}}},
	{"/w/ws_1/members/usr_2/role", url.Values{"role": {"admin"}}},
	{"/w/ws_1/members/usr_2/remove", nil},
	{"/w/ws_1/members/usr_2/invite", nil},
	{"/w/ws_1/settings/webhook-secret", nil},
	{"/w/ws_1/scim/requests", url.Values{"contact_email": {"it@acme.test"}, "integration": {"okta"}}},
	{"/w/ws_1/scim/requests/req_1/pickup", nil},
	{"/operator/workspaces", url.Values{"name": {"New"}, "owner_email": {"o@new.test"}}},
	{"/operator/scim-requests/req_1/approve", nil},
	{"/operator/platform-keys", url.Values{"name": {"backend"}, "scopes": {"portal:write"}}},
	{"/operator/platform-keys/pk_1/revoke", nil},
	{"/invite", url.Values{"token": {"t"}, "password": {"correct horse battery"}, "confirm": {"correct horse battery"}}},
	{"/w/ws_1/vaults", url.Values{"name": {"Team"}}},
	{"/w/ws_1/vaults/vlt_1/secrets", url.Values{"name": {"n"}, "value": {"v"}}},
	{"/w/ws_1/vaults/vlt_1/secrets/sec_1/reveal", url.Values{"reason": {"r"}}},
	{"/w/ws_1/keys/key_1/save-to-vault", url.Values{"secret": {"s"}, "vault_id": {"vlt_1"}}},
}

// inline lists the errors a page shows in place, with the status it
// answers, instead of leaving for an error page: a bad filter or cursor
// on a list, an invitation that is not (or no longer) there.
var inline = map[string]int{
	"GET /w/ws_1/keys invalid_request":         http.StatusOK,
	"GET /w/ws_1/profile/keys invalid_request": http.StatusOK,
	"GET /w/ws_1/activity invalid_request":     http.StatusOK,
	"GET /invite?token=t not_found":            http.StatusNotFound,
	"GET /portal?token=t not_found":            http.StatusNotFound,
	"POST /invite not_found":                   http.StatusUnprocessableEntity,
}

// expect is what route answers to c: the page of c, or the page itself
// showing the service's message where inline says so.
func expect(route string, err error, want pageError) pageError {
	if status, ok := inline[route+" "+string(latchkey.ErrorCode(err))]; ok {
		return pageError{status: status, message: latchkey.ErrorMessage(err)}
	}
	return want
}

type pageError struct {
	status int
	// message is what the page says; "" for internal errors, whose page
	// quotes the request id and nothing else.
	message string
	// leaves reports whether a form answers it with this page rather than
	// showing it next to the form.
	leaves bool
}

func errorCases() []struct {
	name string
	err  error
	want pageError
} {
	type c = struct {
		name string
		err  error
		want pageError
	}
	msg := func(code latchkey.Code) string { return "the " + string(code) + " message" }
	wrap := func(code latchkey.Code) error {
		return fmt.Errorf("manage: %w", latchkey.Errorf(code, "%s", msg(code)))
	}
	return []c{
		{"invalid", wrap(latchkey.EINVALID), pageError{422, msg(latchkey.EINVALID), false}},
		{"conflict", wrap(latchkey.ECONFLICT), pageError{422, msg(latchkey.ECONFLICT), false}},
		{"unprocessable", wrap(latchkey.EUNPROCESSABLE), pageError{422, msg(latchkey.EUNPROCESSABLE), false}},
		{"forbidden", wrap(latchkey.EFORBIDDEN), pageError{403, msg(latchkey.EFORBIDDEN), false}},
		// What the visitor may not see reads like what does not exist.
		{"not found", wrap(latchkey.ENOTFOUND), pageError{404, "This page does not exist, or you do not have access to it.", true}},
		{"too large", wrap(latchkey.ETOOLARGE), pageError{413, msg(latchkey.ETOOLARGE), false}},
		{"unsupported", wrap(latchkey.EUNSUPPORTED), pageError{415, msg(latchkey.EUNSUPPORTED), false}},
		{"rate limited", wrap(latchkey.ERATELIMITED), pageError{429, msg(latchkey.ERATELIMITED), false}},
		{"unavailable", wrap(latchkey.EUNAVAILABLE), pageError{503, msg(latchkey.EUNAVAILABLE), true}},
		{"internal", fmt.Errorf("%s: %w", secretish, latchkey.Errorf(latchkey.EINTERNAL, "%s", secretish)), pageError{500, "", true}},
		{"plain error", errors.New(secretish), pageError{500, "", true}},
		{"context deadline", fmt.Errorf("%s: %w", secretish, context.DeadlineExceeded), pageError{503, "the request took too long; retry shortly", true}},
		{"context canceled", fmt.Errorf("%s: %w", secretish, context.Canceled), pageError{500, "", true}},
	}
}

func serve(t *testing.T, svc console.Service) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	console.New(console.Config{Service: svc, Logger: slog.New(slog.DiscardHandler)}).Register(mux)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req_42")
		mux.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	return srv
}

type pageAnswer struct {
	status int
	header http.Header
	body   string
}

func visit(t *testing.T, srv *httptest.Server, method, path string, form url.Values) pageAnswer {
	t.Helper()
	req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.AddCookie(&http.Cookie{Name: manage.SessionCookie, Value: "session-token"})
	hc := srv.Client()
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return pageAnswer{resp.StatusCode, resp.Header, string(b)}
}

func check(t *testing.T, what string, a pageAnswer, want pageError) {
	t.Helper()
	if a.status != want.status {
		t.Errorf("%s: got %d, want %d", what, a.status, want.status)
	}
	if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/html") {
		t.Errorf("%s: Content-Type: got %q, want a page", what, ct)
	}
	switch {
	// The console writes messages as sentences: a capital and a full stop.
	case want.message != "" && !strings.Contains(strings.ToLower(a.body), strings.ToLower(html.EscapeString(want.message))):
		t.Errorf("%s: the page does not say %q", what, want.message)
	case want.message == "" && !strings.Contains(a.body, "req_42"):
		t.Errorf("%s: an internal error's page does not quote the request id req_42", what)
	}
	for _, leak := range []string{"hunter2", "10.9.8.7", "dial tcp", "manage:", "context deadline", "context canceled"} {
		if strings.Contains(a.body, leak) {
			t.Errorf("%s: the page leaks %q", what, leak)
		}
	}
}

// TestErrorMappingOfEveryPage injects each kind of error the service can
// return into every page and every form, then into resolving the visitor,
// and checks the status and what the page says.
func TestErrorMappingOfEveryPage(t *testing.T) {
	for _, c := range errorCases() {
		t.Run(c.name, func(t *testing.T) {
			f := &failing{err: c.err}
			srv := serve(t, f)
			for _, p := range pages {
				before := f.failed
				a := visit(t, srv, http.MethodGet, p, nil)
				if f.failed == before {
					t.Errorf("GET %s: answered %d without calling the service", p, a.status)
					continue
				}
				check(t, "GET "+p, a, expect("GET "+p, c.err, c.want))
			}
			if c.want.leaves {
				// Errors that are not the visitor's to fix leave the form
				// for the same page; the others are shown on the form
				// (each form's own tests cover that).
				for _, act := range actions {
					before := f.failed
					a := visit(t, srv, http.MethodPost, act.path, act.form)
					if f.failed == before {
						t.Errorf("POST %s: answered %d without calling the service: %.300s", act.path, a.status, a.body)
						continue
					}
					check(t, "POST "+act.path, a, expect("POST "+act.path, c.err, c.want))
				}
			}
			auth := &failing{authErr: c.err}
			srv = serve(t, auth)
			for _, p := range []string{"/w/ws_1/keys", "/operator/workspaces"} {
				a := visit(t, srv, http.MethodGet, p, nil)
				if auth.failed == 0 {
					t.Fatalf("GET %s: answered %d without resolving the visitor", p, a.status)
				}
				check(t, "resolving the visitor of "+p, a, c.want)
			}
		})
	}
}

// TestEndedSessionGoesToLogin: a session the service no longer knows sends
// the visitor to the login page, never to an error page; elsewhere an
// unauthenticated pageAnswer does the same.
func TestEndedSessionGoesToLogin(t *testing.T) {
	refused := latchkey.Errorf(latchkey.EUNAUTHORIZED, "the session has ended")
	for _, f := range []*failing{{authErr: refused}, {err: refused}} {
		a := visit(t, serve(t, f), http.MethodGet, "/w/ws_1/keys", nil)
		if loc := a.header.Get("Location"); a.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
			t.Errorf("got %d to %q, want 303 to the login page", a.status, loc)
		}
		if f.failed == 0 {
			t.Error("answered without asking the service")
		}
	}
}
