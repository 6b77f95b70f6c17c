package verify

import (
	"context"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// decide runs the checks that depend on the key alone. Expiry and the grace
// period are computed here from cached times, never cached as a verdict.
func decide(e *entry, h *[32]byte, now int64, keyID string) latchkey.VerifyCode {
	switch {
	case keyID != "" && keyID != e.id():
		return latchkey.KeyInvalid
	case e.hash == *h:
	case e.hasPrev && e.prev == *h:
		if now >= e.prevExpires {
			return latchkey.KeyInvalid
		}
	default:
		return latchkey.KeyInvalid
	}
	switch {
	case e.revoked:
		return latchkey.KeyRevoked
	case now >= e.expires:
		return latchkey.KeyExpired
	case e.disabled:
		return latchkey.KeyDisabled
	case !e.ownerActive:
		return latchkey.OwnerDeprovisioned
	}
	return ""
}

// missingScopes returns the required scopes absent from have (scopes joined
// by spaces), or nil; it allocates only when something is missing. The
// copies keep need from escaping, so callers can build it on the stack.
func missingScopes(have string, need []string) []string {
	var missing []string
	for _, s := range need {
		if !hasScope(have, s) {
			missing = append(missing, strings.Clone(s))
		}
	}
	return missing
}

func hasScope(have, s string) bool {
	if s == "" {
		return false
	}
	for have != "" {
		var one string
		one, have, _ = strings.Cut(have, " ")
		if one == s {
			return true
		}
	}
	return false
}

// Authenticate runs the checks that do not depend on a request (key found,
// grace period, revoked, expired, disabled, owner active, rate limits,
// credits) and returns the whole key. The management API uses it for
// management and SCIM keys. The code is Unavailable when the store failed.
func (v *Verifier) Authenticate(ctx context.Context, tok string) (*latchkey.Key, latchkey.VerifyCode) {
	start := time.Now()
	var (
		e    entry
		full *latchkey.Key
		code latchkey.VerifyCode
		err  error
	)
	if h, ok := v.find(ctx, tok, &e, &full, &code, &err, nil); ok {
		now := v.now()
		code = decide(&e, &h, now.UnixNano(), "")
		if code == "" && e.ratePeriod > 0 {
			if _, ok := v.limits.allow(&e, now); !ok {
				code = latchkey.RateLimited
			}
		}
		if code == "" && e.budgeted() {
			// A management or SCIM key's credits and named limits hold
			// as a product key's do: every limit, cost 1.
			var r Result
			v.spendBudgets(ctx, &e, &Request{}, now, &r)
			code, err = r.Code, r.Err
		}
		v.count(&e, now, code, nil)
	}
	v.metrics.observe(code, start)
	if code != "" {
		return nil, code
	}
	// A copy, so the caller cannot change what the cache holds.
	k := *full
	k.Scopes = slices.Clone(k.Scopes)
	k.Settings = maps.Clone(k.Settings)
	return &k, ""
}
