package main

import (
	"net/http"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
)

// enrolTOTP sets up an authenticator app through the API for a session
// that must enrol (operators always must) and returns its secret.
func enrolTOTP(t *testing.T, hc *http.Client, base string) string {
	t.Helper()
	got := send(t, hc, "POST", base+"/v1/me/mfa/totp", nil)
	secret, _ := got.body["secret"].(string)
	if got.status != http.StatusCreated || secret == "" {
		t.Fatalf("POST /v1/me/mfa/totp: %d %s", got.status, got.raw)
	}
	code, err := totp.GenerateCode(secret, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	got = send(t, hc, "POST", base+"/v1/me/mfa/totp/confirm", map[string]string{"code": code})
	if got.status != http.StatusOK {
		t.Fatalf("POST /v1/me/mfa/totp/confirm: %d %s", got.status, got.raw)
	}
	return secret
}
