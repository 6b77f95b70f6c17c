package api_test

import (
	"strings"
	"testing"
)

// passkeyRoutes are the passkey routes, with bodies that pass decoding.
var passkeyRoutes = []struct{ method, path, body string }{
	{"GET", "/v1/me/mfa/passkeys", ""},
	{"POST", "/v1/me/mfa/passkeys/register/begin", ""},
	{"POST", "/v1/me/mfa/passkeys/register/finish", `{"name":"n","credential":{"id":"x"}}`},
	{"PATCH", "/v1/me/mfa/passkeys/pk_1", `{"name":"n"}`},
	{"POST", "/v1/me/mfa/passkeys/pk_1/remove", `{"password":"hunter2"}`},
	{"POST", "/v1/auth/passkey/begin", ""},
	{"POST", "/v1/auth/passkey/finish", `{"credential":{"id":"x"}}`},
	{"POST", "/v1/auth/second-factor/passkey/begin", ""},
	{"POST", "/v1/auth/second-factor/passkey/finish", `{"credential":{"id":"x"}}`},
}

// TestErrorMappingOfPasskeyRoutes is TestErrorMappingOfEveryRoute for the
// passkey routes: every error the service can return, where the handler
// calls it and, for the signed-in routes, where the caller is resolved.
func TestErrorMappingOfPasskeyRoutes(t *testing.T) {
	for _, c := range errorCases() {
		t.Run(c.name, func(t *testing.T) {
			f := &failing{err: c.err}
			srv := serve(t, f, keyring{})
			for _, r := range passkeyRoutes {
				before := f.failed
				a := call(t, srv, r.method, r.path, r.body, session)
				if f.failed == before {
					t.Errorf("%s %s: the handler answered %d without calling the service: %s", r.method, r.path, a.status, a.raw)
					continue
				}
				check(t, r.method+" "+r.path, a, c)
			}
			auth := &failing{authErr: c.err}
			srv = serve(t, auth, keyring{})
			for _, r := range passkeyRoutes {
				if !strings.HasPrefix(r.path, "/v1/me/") {
					continue // the sign-in steps resolve no caller
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
