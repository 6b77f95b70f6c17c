package verify

import (
	"io"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// Header values shared by every answer. net/http only reads them; Set and
// Add replace or re-slice rather than write into them (cap 1).
var (
	jsonType      = []string{"application/json"}
	noStore       = []string{"no-store"}
	bearer        = []string{`Bearer realm="latchkey"`}
	invalidBearer = []string{`Bearer realm="latchkey", error="invalid_token"`}
	retryOne      = []string{"1"}
	staleOne      = []string{"1"}
)

// staleBodyPrefix replaces bodyPrefix in a valid answer decided from the
// store's last answer (Result.Stale).
const staleBodyPrefix = `{"valid":true,"stale":true,"key":`

func setCommon(h http.Header) {
	h["Content-Type"] = jsonType
	h["Cache-Control"] = noStore
}

// answer writes the decision: a byte copy of the cached body when valid.
//
// A forward-auth success carries its answer in headers only: proxies read
// nothing else, and every byte of a body costs throughput on the hot path.
func (v *Verifier) answer(w http.ResponseWriter, res *Result, required []string, forward bool) {
	h := w.Header()
	if res.Stale {
		h["X-Latchkey-Stale"] = staleOne
	}
	if res.Code == "" && forward {
		h["Cache-Control"] = noStore
	} else {
		setCommon(h)
	}
	if res.Code == "" {
		e := &res.Key.e
		if forward {
			vals := make([]string, 6)
			vals[0], vals[1], vals[2], vals[3], vals[4] = e.id(), e.part(partWorkspace), string(e.environment()), e.part(partScopes), e.part(partOwner)
			vals[5] = e.part(partExternal)
			h["X-Latchkey-Key-Id"] = vals[0:1:1]
			h["X-Latchkey-Workspace-Id"] = vals[1:2:2]
			h["X-Latchkey-Environment"] = vals[2:3:3]
			h["X-Latchkey-Scopes"] = vals[3:4:4]
			h["X-Latchkey-Owner"] = vals[4:5:5]
			// Sent empty when the key has none, so that a proxy copying
			// it replaces whatever the client sent under that name.
			h["X-Latchkey-External-Id"] = vals[5:6:6]
			if res.budgeted() {
				budgetHeaders(h, res)
			}
			w.WriteHeader(http.StatusOK)
			return
		}
		w.WriteHeader(http.StatusOK)
		body := e.part(partBody)
		if res.Stale {
			body = staleBodyPrefix + body[len(bodyPrefix):]
		}
		if res.budgeted() {
			writeWithBudgets(w, body, res)
			return
		}
		io.WriteString(w, body)
		return
	}
	i := codeIndex(res.Code)
	status := res.Code.HTTPStatus()
	switch res.Code {
	case Unavailable:
		status = http.StatusServiceUnavailable
		h["Retry-After"] = retryOne
	case latchkey.KeyMissing:
		h["Www-Authenticate"] = bearer
	case latchkey.InsufficientScope:
		h["Www-Authenticate"] = []string{scopeChallenge(required)}
		w.WriteHeader(status)
		w.Write(failure(res.Code, `{"missing_scopes":`, res.Missing))
		return
	case latchkey.RateLimited:
		secs := strconv.FormatInt(retrySeconds(res.RetryAfter), 10)
		h["Retry-After"] = []string{secs}
		if res.nlimits > 0 {
			budgetHeaders(h, res)
		}
		w.WriteHeader(status)
		details := []byte(`{"retry_after_seconds":` + secs)
		if n := res.nlimits; n > 0 {
			details = append(details, `,"ratelimit":`...)
			details = appendBudget(details, &res.limits[n-1])
		}
		w.Write(failureRaw(res.Code, string(append(details, '}'))))
		return
	case latchkey.UsageExceeded:
		if res.HasCredits {
			budgetHeaders(h, res)
			if !res.Credits.Reset.IsZero() {
				h["Retry-After"] = []string{strconv.FormatInt(retrySeconds(time.Duration(res.Credits.Reset.UnixNano()-res.at)), 10)}
			}
		}
		w.WriteHeader(status)
		details := []byte(`{`)
		if res.HasCredits {
			details = append(details, `"credits":`...)
			details = appendBudget(details, &res.Credits)
		}
		w.Write(failureRaw(res.Code, string(append(details, '}'))))
		return
	default:
		if status == http.StatusUnauthorized {
			h["Www-Authenticate"] = invalidBearer
		}
	}
	w.WriteHeader(status)
	io.WriteString(w, failureBodies[i])
}

// scopeChallenge is RFC 6750's insufficient_scope challenge listing the
// required scopes; scopes that cannot sit in a quoted string are left out.
func scopeChallenge(required []string) string {
	b := []byte(`Bearer realm="latchkey", error="insufficient_scope", scope="`)
	n := 0
	for _, s := range required {
		if !scopeToken(s) {
			continue
		}
		if n > 0 {
			b = append(b, ' ')
		}
		b = append(b, s...)
		n++
	}
	return string(append(b, '"'))
}

func scopeToken(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c <= ' ' || c > '~' || c == '"' || c == '\\' {
			return false
		}
	}
	return s != ""
}

// Messages of the verify failures, each a sentence a developer can act on.
var messages = [len(codes)]string{
	"The API key is valid.",
	"No API key was presented: send it in the X-API-Key header, as a Bearer token, or with Basic auth.",
	"The API key is not in the format latchkey issues, or its checksum is wrong.",
	"The API key is not valid: it is unknown, was deleted, or was replaced by a reset.",
	"The API key has expired.",
	"The API key has been revoked.",
	"The member who owns this personal API key is no longer active.",
	"The API key lacks scopes this request requires.",
	"The API key is not of the type this request requires.",
	"The API key belongs to another environment.",
	"The API key has exceeded its rate limit; retry after the number of seconds in Retry-After.",
	"Verification is temporarily unavailable; retry shortly.",
	"The API key may not be used from this address: it is bound to other networks.",
	"The API key is disabled: it is refused until it is enabled again.",
	"The API key has used all its credits.",
}

// failureBodies are the answers without per-request details, encoded once.
var failureBodies = func() (out [len(codes)]string) {
	for i, c := range codes {
		out[i] = string(failureRaw(c, "{}"))
	}
	return out
}()

func failureRaw(code latchkey.VerifyCode, details string) []byte {
	b := make([]byte, 0, 160+len(details))
	b = append(b, `{"valid":false,"error":{"code":`...)
	b = appendJSONString(b, string(code))
	b = append(b, `,"message":`...)
	b = appendJSONString(b, messages[codeIndex(code)])
	b = append(b, `,"details":`...)
	b = append(b, details...)
	return append(b, "}}"...)
}

// failure is failureRaw with details {field: [list]}; field is `{"name":`.
func failure(code latchkey.VerifyCode, field string, list []string) []byte {
	b := append([]byte(field), '[')
	for i, s := range list {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendJSONString(b, s)
	}
	return failureRaw(code, string(append(b, "]}"...)))
}

// writeBadRequest answers a request that could not be decided at all.
func writeBadRequest(w http.ResponseWriter, status int, code latchkey.Code, msg string) {
	setCommon(w.Header())
	w.WriteHeader(status)
	b := make([]byte, 0, 128)
	b = append(b, `{"valid":false,"error":{"code":`...)
	b = appendJSONString(b, string(code))
	b = append(b, `,"message":`...)
	b = appendJSONString(b, msg)
	w.Write(append(b, `,"details":{}}}`...))
}

// appendJSONString appends s as a JSON string (strconv.Quote's escapes are Go's, not JSON's).
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b = append(b, '\\', byte(r))
		case r < 0x20 || r == 0x2028 || r == 0x2029 || r == '<' || r == '>' || r == '&':
			b = append(b, '\\', 'u', hex[r>>12&0xf], hex[r>>8&0xf], hex[r>>4&0xf], hex[r&0xf])
		case r == utf8.RuneError:
			b = append(b, `\ufffd`...)
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}
