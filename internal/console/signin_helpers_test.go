package console_test

import (
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

var secretRe = regexp.MustCompile(`id="totp-secret">([A-Z2-7]+)<`)

// finishEnrolment sets up an authenticator app for a session the login
// sent to enrolment (operators always are), as a person would, and
// returns the secret.
func (e *env) finishEnrolment(t *testing.T, hc *http.Client, location string) string {
	t.Helper()
	page := e.get(t, hc, location)
	m := secretRe.FindStringSubmatch(page.body)
	if m == nil {
		t.Fatalf("GET %s: no authenticator secret on the page: %d %s", location, page.status, page.body)
	}
	code, err := totp.GenerateCode(m[1], time.Now())
	if err != nil {
		t.Fatal(err)
	}
	u, _ := url.Parse(location)
	done := e.post(t, hc, "/login/enrol", url.Values{"code": {code}, "next": {u.Query().Get("next")}})
	if done.status != http.StatusOK || !strings.Contains(html.UnescapeString(done.body), "recovery codes") {
		t.Fatalf("POST /login/enrol: got %d, want 200 with recovery codes; body %s", done.status, done.body)
	}
	return m[1]
}
