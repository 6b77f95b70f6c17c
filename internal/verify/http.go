package verify

import (
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/netip"
	"strings"
	"sync"

	"github.com/latchkey/latchkey"
)

// PostHandler serves POST /v1/keys/verify, for backends:
// {"key", "scopes", "type", "environment"} in, the decision out.
func (v *Verifier) PostHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > maxBody {
			writeBadRequest(w, http.StatusRequestEntityTooLarge, latchkey.ETOOLARGE, "request body must be at most 1 MiB")
			return
		}
		bp := bufPool.Get().(*[]byte)
		body, status := readBody(r.Body, (*bp)[:0])
		// One copy as a string: every field below is a substring of it,
		// and the pooled buffer can go back at once.
		s := string(body)
		if cap(body) <= 64<<10 {
			*bp = body[:0]
			bufPool.Put(bp)
		}
		if status != 0 {
			if status == http.StatusRequestEntityTooLarge {
				writeBadRequest(w, status, latchkey.ETOOLARGE, "request body must be at most 1 MiB")
			} else {
				writeBadRequest(w, status, latchkey.EINVALID, "could not read the request body")
			}
			return
		}
		var scratch [8]string
		var limitScratch [MaxRateLimitsPerRequest]LimitUse
		var tagScratch [maxTags]string
		var req postRequest
		lists, msg := req.parse(s, postLists{scopes: scratch[:0], limits: limitScratch[:0], tags: tagScratch[:0]})
		if msg != "" {
			writeBadRequest(w, http.StatusBadRequest, latchkey.EINVALID, msg)
			return
		}
		var env latchkey.Environment
		if req.env != "" {
			if env = latchkey.Environment(req.env); !env.Valid() {
				writeBadRequest(w, http.StatusBadRequest, latchkey.EINVALID, `environment must be "production" or "demo"`)
				return
			}
		}
		tok, keyID, ok := req.key, "", true
		if req.key == "" {
			tok, keyID, ok = presented(r.Header)
		}
		var addr netip.Addr
		if req.ip != "" {
			var err error
			// A zone would make ParseAddr allocate, and means nothing here.
			if strings.IndexByte(req.ip, '%') >= 0 {
				err = errBadIP
			} else {
				addr, err = netip.ParseAddr(req.ip)
			}
			if err != nil {
				writeBadRequest(w, http.StatusBadRequest, latchkey.EINVALID, "ip must be an IPv4 or IPv6 address")
				return
			}
		}
		if req.seen&seenLimits == 0 {
			lists.limits = nil // every limit of the key applies
		}
		check := Request{Scopes: lists.scopes, Type: req.typ, Environment: env, KeyID: keyID, Addr: addr,
			Cost: req.cost, Limits: lists.limits, Tags: lists.tags}
		var res Result
		if !ok {
			res.Code = latchkey.KeyMalformed
			v.metrics.results[codeIndex(res.Code)].Inc()
		} else {
			v.checkTo(r.Context(), tok, &check, &res)
		}
		v.answer(w, &res, check.Scopes, false)
	})
}

// ForwardAuthHandler serves GET /v1/verify for reverse proxies (nginx
// auth_request, Traefik ForwardAuth, Caddy forward_auth): the key in a
// header, requirements in the query, the key's identity in the answer's
// X-Latchkey-* headers. With ?mode=nginx a refusal is a 401 or 403 that
// carries the real answer in headers (see nginx.go).
func (v *Verifier) ForwardAuthHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var scratch [8]string
		var limitScratch [MaxRateLimitsPerRequest]LimitUse
		var tagScratch [maxTags]string
		var check Request
		lists, msg := parseQuery(r.URL.RawQuery, postLists{scopes: scratch[:0], limits: limitScratch[:0], tags: tagScratch[:0]}, &check)
		check.Scopes, check.Limits, check.Tags = lists.scopes, lists.limits, lists.tags
		if msg != "" {
			if nginxMode(r.URL.RawQuery) {
				answerNginx(w, func(w http.ResponseWriter) { writeBadRequest(w, http.StatusBadRequest, latchkey.EINVALID, msg) })
				return
			}
			writeBadRequest(w, http.StatusBadRequest, latchkey.EINVALID, msg)
			return
		}
		var res Result
		tok, keyID, ok := presented(r.Header)
		if !ok {
			res.Code = latchkey.KeyMalformed
			v.metrics.results[codeIndex(res.Code)].Inc()
		} else {
			check.KeyID, check.Addr = keyID, v.clientAddr(r)
			v.checkTo(r.Context(), tok, &check, &res)
		}
		if res.Code != "" && nginxMode(r.URL.RawQuery) {
			answerNginx(w, func(w http.ResponseWriter) { v.answer(w, &res, check.Scopes, true) })
			return
		}
		v.answer(w, &res, check.Scopes, true)
	})
}

const maxBody = 1 << 20

var errBadIP = errors.New("bad ip")

var bufPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// readBody reads at most maxBody bytes into buf; the status is non-zero
// when the body is too large or could not be read.
func readBody(r io.Reader, buf []byte) ([]byte, int) {
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):cap(buf)])
		buf = buf[:len(buf)+n]
		if len(buf) > maxBody {
			return buf, http.StatusRequestEntityTooLarge
		}
		if err == io.EOF {
			return buf, 0
		}
		if err != nil {
			return buf, http.StatusBadRequest
		}
	}
}

// presented finds the key in the request headers: X-API-Key, then
// Authorization (Bearer, or Basic with the key id as the user name). ok is
// false when an Authorization header is present but unusable. No key at
// all is ok with an empty token, which Check answers key_missing.
func presented(h http.Header) (tok, keyID string, ok bool) {
	if vs := h["X-Api-Key"]; len(vs) > 0 && vs[0] != "" {
		return vs[0], "", true
	}
	vs := h["Authorization"]
	if len(vs) == 0 || vs[0] == "" {
		return "", "", true
	}
	scheme, rest, _ := strings.Cut(vs[0], " ")
	rest = strings.TrimSpace(rest)
	switch {
	case strings.EqualFold(scheme, "Bearer") && rest != "":
		return rest, "", true
	case strings.EqualFold(scheme, "Basic") && rest != "" && len(rest) <= 512:
		var buf [384]byte
		n, err := base64.StdEncoding.Decode(buf[:], []byte(rest))
		if err != nil {
			return "", "", false
		}
		user, pass, found := strings.Cut(string(buf[:n]), ":")
		if !found || user == "" || pass == "" {
			return "", "", false
		}
		return pass, user, true
	}
	return "", "", false
}

// parseQuery reads ?scope=a&scope=b (or scope=a,b), ?type=, ?environment=,
// ?cost= (credits), ?ratelimit=name or name:cost (repeated; any of them
// means only the named limits apply) and ?tag=; other parameters are
// ignored, since proxies add their own. The lists are appended to l and
// returned rather than stored in req, so that a caller's stack arrays do
// not escape; l.limits comes back nil when no ratelimit parameter is given.
func parseQuery(q string, l postLists, req *Request) (postLists, string) {
	named := false
	for q != "" {
		var kv string
		kv, q, _ = strings.Cut(q, "&")
		k, val, _ := strings.Cut(kv, "=")
		if strings.ContainsAny(val, "%+") {
			var err error
			if val, err = urlUnescape(val); err != nil {
				return l, "the query string is not valid"
			}
		}
		switch k {
		case "scope", "scopes":
			for val != "" {
				var s string
				s, val, _ = strings.Cut(val, ",")
				if s = strings.TrimSpace(s); s != "" {
					l.scopes = append(l.scopes, s)
				}
			}
		case "type":
			req.Type = val
		case "environment":
			if req.Environment = latchkey.Environment(val); val != "" && !req.Environment.Valid() {
				return l, `environment must be "production" or "demo"`
			}
		case "cost":
			n, ok := queryCount(val)
			if !ok {
				return l, "cost must be a whole number from 0 to 1000000"
			}
			req.Cost = n
		case "ratelimit":
			named = true
			name, c, hasCost := strings.Cut(val, ":")
			u := LimitUse{Name: name}
			if hasCost {
				n, ok := queryCount(c)
				if !ok {
					return l, "ratelimit must be a name, or name:cost with cost a whole number from 0 to 1000000"
				}
				u.Cost = n
			}
			if name == "" || len(l.limits) >= MaxRateLimitsPerRequest {
				return l, "ratelimit must be a name, or name:cost, at most 8 times"
			}
			l.limits = append(l.limits, u)
		case "tag":
			if val == "" || len(val) > maxTagLen || len(l.tags) >= maxTags {
				return l, "tag must be a non-empty string of at most 128 bytes, at most 10 times"
			}
			l.tags = append(l.tags, val)
		case "mode":
			// nginx (see nginx.go) or the default; a typo must not
			// silently give answers nginx turns into 500s.
			if val != "" && val != "nginx" {
				return l, `mode must be "nginx" or absent`
			}
		}
	}
	if !named {
		l.limits = nil
	}
	return l, ""
}

// queryCount reads a cost from the query: 0 spends nothing (CostNone).
func queryCount(s string) (int64, bool) {
	d := decoder{s: s}
	n, ok := d.count()
	if !ok || d.i != len(s) {
		return 0, false
	}
	if n == 0 {
		return CostNone, true
	}
	return n, true
}
