package latchkey

import (
	"errors"
	"strings"
	"testing"
)

// TestVerifyCodeErr holds the one translation from a verification outcome
// to the error the management API and SCIM answer: an outage is never a
// refused key, and no refusal reads as an outage.
func TestVerifyCodeErr(t *testing.T) {
	if err := VerifyCode("").Err(); err != nil {
		t.Fatalf("a valid key: got %v, want nil", err)
	}
	refusals := []VerifyCode{KeyMissing, KeyMalformed, KeyInvalid, KeyExpired, KeyRevoked, OwnerDeprovisioned,
		InsufficientScope, WrongType, WrongEnvironment, IPNotAllowed, KeyDisabled}
	for _, c := range []VerifyCode{RateLimited, UsageExceeded} {
		// Too fast or spent: a 429 to retry later, never a bad key.
		var e *Error
		if !errors.As(c.Err(), &e) || e.Code != ERATELIMITED || e.Details["reason"] != string(c) {
			t.Errorf("%s: got %v, want rate_limited with the reason", c, c.Err())
		}
	}
	for _, c := range refusals {
		t.Run(string(c), func(t *testing.T) {
			err := c.Err()
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("got %T %v, want *Error", err, err)
			}
			if e.Code != EUNAUTHORIZED {
				t.Errorf("code: got %q, want %q", e.Code, EUNAUTHORIZED)
			}
			if e.Details["reason"] != string(c) || !strings.Contains(e.Message, string(c)) {
				t.Errorf("got message %q details %v, want the reason %q in both", e.Message, e.Details, c)
			}
			if c.HTTPStatus() == 503 {
				t.Errorf("HTTPStatus: a refusal answers 503")
			}
		})
	}
	err := VerifyUnavailable.Err()
	if got := ErrorCode(err); got != EUNAVAILABLE {
		t.Errorf("unavailable: got %q, want %q", got, EUNAVAILABLE)
	}
	if strings.Contains(ErrorMessage(err), "refused") {
		t.Errorf("unavailable reads as a refused key: %q", ErrorMessage(err))
	}
	if got := VerifyUnavailable.HTTPStatus(); got != 503 {
		t.Errorf("unavailable HTTPStatus: got %d, want 503", got)
	}
}
