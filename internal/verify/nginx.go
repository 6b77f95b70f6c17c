package verify

import (
	"bytes"
	"net/http"
	"strconv"
	"strings"
)

// nginx's auth_request passes only 2xx, 401 and 403 from the auth
// subrequest (anything else becomes a 500) and drops the subrequest's body.
// In nginx mode (GET /v1/verify?mode=nginx) a refusal is therefore a 401
// or a 403 whose real answer travels in headers, which the documented
// configuration (docs/forward-auth.md) reads with auth_request_set and
// turns back into the real status, body, Retry-After and WWW-Authenticate.
const (
	hdrStatus     = "X-Latchkey-Status"
	hdrCode       = "X-Latchkey-Code"
	hdrError      = "X-Latchkey-Error" // the JSON body of the real answer, on one line
	hdrRetryAfter = "X-Latchkey-Retry-After"
	hdrChallenge  = "X-Latchkey-Www-Authenticate"
)

// nginxMode reports whether the raw query asks for nginx mode; the query
// parser need not have succeeded.
func nginxMode(rawQuery string) bool {
	for q := rawQuery; q != ""; {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		if kv == "mode=nginx" {
			return true
		}
	}
	return false
}

// recorded is a refusal as the plain endpoint would have written it.
type recorded struct {
	h      http.Header
	status int
	body   bytes.Buffer
}

func (r *recorded) Header() http.Header         { return r.h }
func (r *recorded) WriteHeader(status int)      { r.status = status }
func (r *recorded) Write(b []byte) (int, error) { return r.body.Write(b) }

// answerNginx writes a refusal for nginx: write is how the plain endpoint
// answers, replayed into a recorder. Valid answers never come here.
func answerNginx(w http.ResponseWriter, write func(http.ResponseWriter)) {
	rec := recorded{h: http.Header{}}
	write(&rec)
	h := w.Header()
	h["Cache-Control"] = noStore
	h.Set(hdrStatus, strconv.Itoa(rec.status))
	if err := bytes.TrimSpace(rec.body.Bytes()); len(err) > 0 {
		h.Set(hdrError, string(err))
		if code := errorCode(err); code != "" {
			h.Set(hdrCode, code)
		}
	}
	if v := rec.h.Get("Retry-After"); v != "" {
		h.Set(hdrRetryAfter, v)
	}
	if v := rec.h.Get("Www-Authenticate"); v != "" {
		h.Set(hdrChallenge, v)
	}
	if s := rec.h.Get("X-Latchkey-Stale"); s != "" {
		h.Set("X-Latchkey-Stale", s)
	}
	// 401 stays 401; every other refusal (403, 429, 503, 4xx) is a 403,
	// the only other status auth_request passes on.
	status := http.StatusForbidden
	if rec.status == http.StatusUnauthorized {
		status = http.StatusUnauthorized
	}
	w.WriteHeader(status)
}

// errorCode cuts error.code out of a body written by failureRaw or
// writeBadRequest: `{"valid":false,"error":{"code":"...",`.
func errorCode(body []byte) string {
	const marker = `"error":{"code":"`
	i := bytes.Index(body, []byte(marker))
	if i < 0 {
		return ""
	}
	rest := body[i+len(marker):]
	j := bytes.IndexByte(rest, '"')
	if j < 0 {
		return ""
	}
	return string(rest[:j])
}
