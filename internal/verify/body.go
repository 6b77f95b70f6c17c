package verify

import (
	"net/url"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
)

// postRequest is the POST body. It is decoded by hand rather than with
// encoding/json: the body has a few known fields, and reflection would cost
// more than the whole decision (the ip field is the address of the key's
// user, for keys bound to networks). Decoding is strict all the same: unknown or
// repeated fields, wrong types and trailing data are refused.
type postRequest struct {
	key, typ, env, ip string
	// cost is credits.cost: 0 when absent (the default), CostNone for 0.
	cost int64
	seen uint16
}

// postLists are the body's lists. They are appended to the caller's
// slices and returned, not stored through the postRequest, so that a
// caller's stack arrays do not escape. limits stays nil when the body
// names no rate limits (every limit applies) and is non-nil, maybe empty,
// when it does.
type postLists struct {
	scopes []string
	limits []LimitUse
	tags   []string
}

// seenLimits is the bit of postRequest.seen for the ratelimits field.
const seenLimits = 64

// Bounds of a verification's tags: they are counted in usage.
const (
	maxTags   = 10
	maxTagLen = 128
)

// parse decodes s and returns a message for the caller when it is not an
// acceptable body. An empty body is an empty object, so a client may send
// the key in a header only. Messages never quote the input: it may hold a key.
func (p *postRequest) parse(s string, l postLists) (postLists, string) {
	d := decoder{s: s}
	d.space()
	if d.i == len(s) {
		return l, ""
	}
	if !d.eat('{') {
		return l, "request body must be a JSON object"
	}
	d.space()
	if d.eat('}') {
		return l, d.end()
	}
	for {
		name, ok := d.str()
		if !ok {
			return l, "request body is not valid JSON"
		}
		d.space()
		if !d.eat(':') {
			return l, "request body is not valid JSON"
		}
		d.space()
		var bit uint16
		var msg string
		switch name {
		case "key":
			bit = 1
			msg = d.optString(&p.key, "key must be a string")
		case "type":
			bit = 2
			msg = d.optString(&p.typ, "type must be a string")
		case "environment":
			bit = 4
			msg = d.optString(&p.env, `environment must be "production" or "demo"`)
		case "ip":
			bit = 16
			msg = d.optString(&p.ip, "ip must be an IPv4 or IPv6 address")
		case "scopes":
			bit = 8
			l.scopes, msg = d.strings(l.scopes, 0, "scopes must be an array of non-empty strings")
		case "credits":
			bit = 32
			msg = d.credits(&p.cost)
		case "ratelimits":
			bit = seenLimits
			l.limits, msg = d.limits(l.limits)
		case "tags":
			bit = 128
			l.tags, msg = d.strings(l.tags, maxTags, "tags must be an array of at most 10 non-empty strings of at most 128 bytes")
		default:
			return l, "unknown field in request body: only key, scopes, type, environment, ip, credits, ratelimits and tags are accepted"
		}
		if msg != "" {
			return l, msg
		}
		if p.seen&bit != 0 {
			return l, "a field appears twice in the request body"
		}
		p.seen |= bit
		d.space()
		if d.eat('}') {
			return l, d.end()
		}
		if !d.eat(',') {
			return l, "request body is not valid JSON"
		}
		d.space()
	}
}

type decoder struct {
	s string
	i int
}

func (d *decoder) space() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

func (d *decoder) eat(c byte) bool {
	if d.i < len(d.s) && d.s[d.i] == c {
		d.i++
		return true
	}
	return false
}

func (d *decoder) end() string {
	d.space()
	if d.i != len(d.s) {
		return "request body has data after the JSON object"
	}
	return ""
}

func (d *decoder) null() bool {
	if len(d.s)-d.i >= 4 && d.s[d.i:d.i+4] == "null" {
		d.i += 4
		return true
	}
	return false
}

func (d *decoder) optString(dst *string, msg string) string {
	if d.null() {
		return ""
	}
	s, ok := d.str()
	if !ok {
		if d.i < len(d.s) && d.s[d.i] == '"' {
			return "request body is not valid JSON"
		}
		return msg
	}
	*dst = s
	return ""
}

// strings reads an array of non-empty strings (at most most of them, and
// each at most maxTagLen bytes, when most > 0), or null.
func (d *decoder) strings(dst []string, most int, msg string) ([]string, string) {
	if d.null() {
		return dst, ""
	}
	if !d.eat('[') {
		return dst, msg
	}
	d.space()
	if d.eat(']') {
		return dst, ""
	}
	for n := 1; ; n++ {
		s, ok := d.str()
		if !ok || s == "" || (most > 0 && (n > most || len(s) > maxTagLen)) {
			return dst, msg
		}
		dst = append(dst, s)
		d.space()
		if d.eat(']') {
			return dst, ""
		}
		if !d.eat(',') {
			return dst, msg
		}
		d.space()
	}
}

// credits reads {"cost": n} (or null): what the verification spends.
func (d *decoder) credits(cost *int64) string {
	const msg = `credits must be an object {"cost": n} with n a whole number from 0 to 1000000`
	if d.null() {
		return ""
	}
	if !d.eat('{') {
		return msg
	}
	d.space()
	if d.eat('}') {
		return ""
	}
	name, ok := d.str()
	d.space()
	if !ok || name != "cost" || !d.eat(':') {
		return msg
	}
	d.space()
	n, ok := d.count()
	d.space()
	if !ok || !d.eat('}') {
		return msg
	}
	if *cost = n; n == 0 {
		*cost = CostNone
	}
	return ""
}

// limits reads [{"name": "...", "cost": n}, ...] (or null): the named
// rate limits that apply, each with its cost (default 1).
func (d *decoder) limits(dst []LimitUse) ([]LimitUse, string) {
	const msg = `ratelimits must be an array of objects {"name": "...", "cost": n} with n a whole number from 0 to 1000000`
	if d.null() {
		return dst, ""
	}
	if !d.eat('[') {
		return dst, msg
	}
	if dst == nil {
		dst = []LimitUse{}
	}
	d.space()
	if d.eat(']') {
		return dst, ""
	}
	for {
		if !d.eat('{') {
			return dst, msg
		}
		var u LimitUse
		var seen uint8
		for {
			d.space()
			field, ok := d.str()
			d.space()
			if !ok || !d.eat(':') {
				return dst, msg
			}
			d.space()
			switch field {
			case "name":
				if seen&1 != 0 {
					return dst, msg
				}
				seen |= 1
				if u.Name, ok = d.str(); !ok || u.Name == "" {
					return dst, msg
				}
			case "cost":
				if seen&2 != 0 {
					return dst, msg
				}
				seen |= 2
				n, ok := d.count()
				if !ok {
					return dst, msg
				}
				if u.Cost = n; n == 0 {
					u.Cost = CostNone
				}
			default:
				return dst, msg
			}
			d.space()
			if d.eat('}') {
				break
			}
			if !d.eat(',') {
				return dst, msg
			}
		}
		if seen&1 == 0 || len(dst) >= 2*MaxRateLimitsPerRequest {
			return dst, msg
		}
		dst = append(dst, u)
		d.space()
		if d.eat(']') {
			return dst, ""
		}
		if !d.eat(',') {
			return dst, msg
		}
		d.space()
	}
}

// MaxRateLimitsPerRequest bounds the limits one verification may name
// (a key has at most latchkey.MaxRateLimits; the rest is slack).
const MaxRateLimitsPerRequest = 8

// count reads a whole number from 0 to latchkey.MaxCost, written as JSON
// writes integers (no sign, no leading zero, no fraction or exponent).
func (d *decoder) count() (int64, bool) {
	start := d.i
	for d.i < len(d.s) && d.s[d.i] >= '0' && d.s[d.i] <= '9' {
		d.i++
	}
	digits := d.s[start:d.i]
	if digits == "" || len(digits) > 7 || (len(digits) > 1 && digits[0] == '0') {
		return 0, false
	}
	if d.i < len(d.s) && (d.s[d.i] == '.' || d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		return 0, false
	}
	n, err := strconv.ParseInt(digits, 10, 64)
	return n, err == nil && n <= latchkey.MaxCost
}

// str reads a JSON string. Without escapes the result is a substring of the
// body, so it costs nothing; with escapes it is decoded into a new string.
func (d *decoder) str() (string, bool) {
	if !d.eat('"') {
		return "", false
	}
	start := d.i
	for i := start; i < len(d.s); i++ {
		switch c := d.s[i]; {
		case c == '"':
			d.i = i + 1
			s := d.s[start:i]
			return s, utf8.ValidString(s)
		case c == '\\':
			return d.unescape(start)
		case c < 0x20:
			return "", false
		}
	}
	return "", false
}

func (d *decoder) unescape(start int) (string, bool) {
	b := make([]byte, 0, 64)
	for i := start; i < len(d.s); {
		c := d.s[i]
		switch {
		case c == '"':
			d.i = i + 1
			return string(b), utf8.Valid(b)
		case c < 0x20:
			return "", false
		case c != '\\':
			b = append(b, c)
			i++
			continue
		}
		if i+1 >= len(d.s) {
			return "", false
		}
		esc := d.s[i+1]
		i += 2
		switch esc {
		case '"', '\\', '/':
			b = append(b, esc)
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r, ok := hex4(d.s, i)
			if !ok {
				return "", false
			}
			i += 4
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+6 <= len(d.s) && d.s[i] == '\\' && d.s[i+1] == 'u' {
					r2, ok = hex4(d.s, i+2)
				}
				if r = utf16.DecodeRune(r, r2); !ok || r == utf8.RuneError {
					return "", false
				}
				i += 6
			}
			b = utf8.AppendRune(b, r)
		default:
			return "", false
		}
	}
	return "", false
}

func hex4(s string, i int) (rune, bool) {
	if i+4 > len(s) {
		return 0, false
	}
	v, err := strconv.ParseUint(s[i:i+4], 16, 16)
	return rune(v), err == nil
}

func urlUnescape(s string) (string, error) { return url.QueryUnescape(s) }
