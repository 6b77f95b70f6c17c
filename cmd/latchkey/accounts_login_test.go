package main

import (
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

// acctRows returns the answer's data list, or nothing when it is not a list.
func acctRows(e exchange) []map[string]any {
	list, _ := e.body["data"].([]any)
	var out []map[string]any
	for _, x := range list {
		out = append(out, acctObj(x))
	}
	return out
}

// acctFrom returns a validated client whose connections come from the
// given loopback address, so that tests can be several clients to the
// login throttle.
func acctFrom(t *testing.T, v *apitest.Validator, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	conn, err := d.DialContext(context.Background(), "tcp", "127.0.0.1:1")
	if err != nil && strings.Contains(err.Error(), "assign requested address") {
		t.Skipf("cannot send from %s on this system: %v", ip, err)
	}
	if conn != nil {
		conn.Close()
	}
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return v.Client(&http.Client{Jar: jar, Timeout: 15 * time.Second, Transport: tr})
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	login := s.URL + "/v1/auth/login"
	owner := v.Client(s.login(t))
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID
	acctAddMember(t, owner, wsURL, map[string]any{"email": "zoe@example.com", "password": acctPassword})
	// Two clients from two addresses, so that the per-address count of one
	// does not lock the other: one guesses at a real account, one at an
	// email that does not exist. They must get the same answers.
	known, unknown := acctFrom(t, v, "127.0.0.2"), acctFrom(t, v, "127.0.0.3")
	start := time.Now()
	var answers [2][]exchange
	var wg sync.WaitGroup
	for i, c := range []struct {
		hc    *http.Client
		email string
	}{{known, s.OwnerEmail}, {unknown, "nobody@example.com"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 11 {
				answers[i] = append(answers[i], send(t, c.hc, "POST", login, map[string]string{"email": c.email, "password": "guess-number-" + strconv.Itoa(n)}))
			}
		}()
	}
	wg.Wait()
	if took := time.Since(start); took < 3*time.Second {
		t.Errorf("10 failures took %v: the answers were not slowed down", took)
	}
	for n := range 11 {
		k, u := answers[0][n], answers[1][n]
		want, code := 401, "unauthenticated"
		if n == 10 {
			want, code = 429, "rate_limited"
		}
		expect(t, "attempt "+strconv.Itoa(n+1)+" on a real account", k, want, code)
		expect(t, "attempt "+strconv.Itoa(n+1)+" on an unknown email", u, want, code)
		if acctStr(k.body, "error", "message") != acctStr(u.body, "error", "message") {
			t.Errorf("attempt %d tells emails apart: %s vs %s", n+1, k.raw, u.raw)
		}
	}
	for _, a := range []exchange{answers[0][10], answers[1][10]} {
		secs, err := strconv.Atoi(a.header.Get("Retry-After"))
		if err != nil || secs < 60 || secs > 15*60+1 || acctDetail(a, "retry_after_seconds") != float64(secs) {
			t.Errorf("429 with Retry-After %q and details %s", a.header.Get("Retry-After"), a.raw)
		}
	}
	// The guessing address is locked out for that email, even with the
	// right password; the owner from another address is only slowed, never
	// locked out by someone else's failures.
	expect(t, "the right password while locked", send(t, known, "POST", login, map[string]string{"email": s.OwnerEmail, "password": s.OwnerPassword}), 429, "rate_limited")
	other := acctFrom(t, v, "127.0.0.4")
	expect(t, "the right password from elsewhere", send(t, other, "POST", login, map[string]string{"email": s.OwnerEmail, "password": s.OwnerPassword}), 200, "")
	// Another account from a clean address is not affected.
	expect(t, "another account", send(t, other, "POST", login, map[string]string{"email": "zoe@example.com", "password": acctPassword}), 200, "")
	t.Logf("throttled for %v", time.Since(start))
	// Failures on the real account are in its workspace's log, with the
	// address; the locked-out attempts never reached the password check.
	failed := acctEvents(t, owner, wsURL, "auth.login_failed")
	if len(failed) != 10 || acctStr(failed[0], "ip") != "127.0.0.2" || acctStr(failed[0], "target") != s.OwnerID {
		t.Errorf("auth.login_failed events: %d, first %v", len(failed), failed)
	}
	v.ReportCoverage(t, false)
}

func TestCrossOriginRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	owner := v.Client(s.login(t))
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID
	evil := []string{"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/members", map[string]any{"email": "mole@example.com", "role": "owner", "password": acctPassword}},
		{"PATCH", "/settings", map[string]any{"members_may_create_personal_keys": false}},
		{"DELETE", "/members/" + s.OwnerID, nil},
		{"POST", "/keys", map[string]any{"name": "csrf"}},
	} {
		got := send(t, owner, c.method, wsURL+c.path, c.body, evil...)
		expect(t, "cross-origin "+c.method+" "+c.path, got, 403, "forbidden")
		if !strings.HasPrefix(got.header.Get("Content-Type"), "application/json") {
			t.Errorf("cross-origin refusal is %q, want JSON", got.header.Get("Content-Type"))
		}
	}
	expect(t, "cross-origin accept-invite", send(t, acctClient(v), "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": "x", "password": acctPassword}, evil...), 403, "forbidden")
	expect(t, "cross-origin GET is harmless and allowed", send(t, owner, "GET", wsURL+"/settings", nil, evil...), 200, "")
	if l := acctIDs(send(t, owner, "GET", wsURL+"/members", nil), "user_id"); len(l) != 1 {
		t.Errorf("members after refused cross-origin calls: %v", l)
	}
	if st := send(t, owner, "GET", wsURL+"/settings", nil); st.body["members_may_create_personal_keys"] != true {
		t.Errorf("settings changed by a cross-origin call: %s", st.raw)
	}
	expect(t, "same-origin POST", send(t, owner, "POST", wsURL+"/members", map[string]any{"email": "ok@example.com"}, "Sec-Fetch-Site: same-origin"), 201, "")
	v.ReportCoverage(t, false)
}

// TestAccountsProtocolErrors sends each account endpoint what every
// endpoint refuses alike: no credentials, a body that is not JSON, a body
// over 1 MiB.
func TestAccountsProtocolErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	acctOperator(t, s.DataDir, "support@vendor.example", acctPassword)
	op := acctLogin(t, v, s.URL, "support@vendor.example", acctPassword)
	owner := v.Client(s.login(t))
	anon := acctClient(v)
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID
	member := wsURL + "/members/" + s.OwnerID
	issue := s.URL + "/v1/scim-key-requests/skr_01ARZ3NDEKTSV4RRFFQ69G5FAV/issue"
	huge := `{"name": "` + strings.Repeat("a", 1<<20) + `"}`
	for _, c := range []struct {
		method, url string
		hc          *http.Client
		body        bool
	}{
		{"GET", wsURL + "/members", owner, false},
		{"POST", wsURL + "/members", owner, true},
		{"PATCH", member, owner, true},
		{"DELETE", member, owner, false},
		{"PATCH", wsURL + "/settings", owner, true},
		{"GET", wsURL + "/settings", owner, false},
		{"GET", wsURL + "/scim-key-requests", owner, false},
		{"POST", wsURL + "/scim-key-requests", owner, true},
		{"GET", s.URL + "/v1/workspaces", op, false},
		{"POST", s.URL + "/v1/workspaces", op, true},
		{"GET", s.URL + "/v1/scim-key-requests", op, false},
		{"POST", issue, op, true},
		{"POST", s.URL + "/v1/auth/accept-invite", anon, true},
		{"POST", s.URL + "/v1/auth/login", anon, true},
	} {
		what := c.method + " " + strings.TrimPrefix(c.url, s.URL)
		if c.hc != anon {
			expect(t, what+" without credentials", send(t, anon, c.method, c.url, nil), 401, "unauthenticated")
			expect(t, what+" with an ended session", send(t, anon, c.method, c.url, nil, "Cookie: latchkey_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 401, "unauthenticated")
		}
		if !c.body {
			continue
		}
		expect(t, what+" with a form", send(t, c.hc, c.method, c.url, nil, "Content-Type: application/x-www-form-urlencoded"), 415, "unsupported_media")
		expect(t, what+" over 1 MiB", send(t, c.hc, c.method, c.url, huge), 413, "body_too_large")
		expect(t, what+" with malformed JSON", send(t, c.hc, c.method, c.url, `{"email": `), 400, "invalid_request")
	}
	expect(t, "login with an empty body", send(t, anon, "POST", s.URL+"/v1/auth/login", nil), 400, "invalid_request")
	mk := s.managementKey(t, "events:read")
	expect(t, "settings without keys:read", send(t, anon, "GET", wsURL+"/settings", nil, "Authorization: Bearer "+mk), 403, "forbidden")
	expect(t, "members without members:read", send(t, anon, "GET", wsURL+"/members", nil, "Authorization: Bearer "+mk), 403, "forbidden")
	expect(t, "scim requests with a management key", send(t, anon, "GET", wsURL+"/scim-key-requests", nil, "Authorization: Bearer "+mk), 403, "forbidden")
	v.ReportCoverage(t, false)
}
