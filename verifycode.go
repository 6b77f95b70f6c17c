package latchkey

// VerifyCode is the outcome of verifying a presented key, sent as
// "error.code" by the verify endpoints: "" when the key is valid, else why
// it was refused, or VerifyUnavailable when it could not be decided.
type VerifyCode string

// Verification failures: the 401s, then the 403s, then 429, then the one
// outcome that is not the key's fault.
const (
	KeyMissing         VerifyCode = "key_missing"
	KeyMalformed       VerifyCode = "key_malformed"
	KeyInvalid         VerifyCode = "key_invalid"
	KeyExpired         VerifyCode = "key_expired"
	KeyRevoked         VerifyCode = "key_revoked"
	OwnerDeprovisioned VerifyCode = "owner_deprovisioned"
	InsufficientScope  VerifyCode = "insufficient_scope"
	WrongType          VerifyCode = "wrong_type"
	WrongEnvironment   VerifyCode = "wrong_environment"
	RateLimited        VerifyCode = "rate_limited"
	// IPNotAllowed refuses a key bound to networks (Key.AllowedIPs)
	// presented from an address outside them.
	IPNotAllowed VerifyCode = "ip_not_allowed"
	// KeyDisabled refuses a suspended key (Key.DisabledAt); enabling it
	// again lifts the refusal.
	KeyDisabled VerifyCode = "key_disabled"
	// UsageExceeded refuses a key whose credits are spent (Key.Credits);
	// a refill or an edit of the credits lifts it.
	UsageExceeded VerifyCode = "usage_exceeded"
	// VerifyUnavailable means the store failed: the key is neither valid
	// nor invalid, and callers are told to retry rather than treat a
	// database outage as a bad key.
	VerifyUnavailable VerifyCode = "unavailable"
)

// HTTPStatus is the status a verify endpoint answers with for c.
func (c VerifyCode) HTTPStatus() int {
	switch c {
	case InsufficientScope, WrongType, WrongEnvironment, IPNotAllowed, KeyDisabled:
		return 403
	case RateLimited, UsageExceeded:
		return 429
	case VerifyUnavailable:
		return 503
	}
	return 401
}

// Err is the outcome c as met by a surface that authenticates its callers
// with a key (the management API, SCIM): nil when the key is valid,
// EUNAVAILABLE when it could not be decided, ERATELIMITED when the key
// is too fast or out of credits, and EUNAUTHORIZED naming the reason
// (detail "reason") for every other refusal. A refusal is a 401 there
// whatever the verify endpoints answer for it: the caller failed to
// authenticate, and those surfaces document no other status for it.
func (c VerifyCode) Err() error {
	switch c {
	case "":
		return nil
	case VerifyUnavailable:
		return Errorf(EUNAVAILABLE, "the key store does not answer; retry shortly")
	case RateLimited:
		// The caller is who it says; it is only too fast, so a 429 it can
		// retry after, not a 401 that reads as a bad key.
		return Errorf(ERATELIMITED, "the key has exceeded its rate limit; retry shortly").WithDetail("reason", string(c))
	case UsageExceeded:
		return Errorf(ERATELIMITED, "the key has used all its credits").WithDetail("reason", string(c))
	}
	return Errorf(EUNAUTHORIZED, "the key was refused: %s", c).WithDetail("reason", string(c))
}
