package verify

import (
	"net/url"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// postRequest is the POST body. It is decoded by hand rather than with
// encoding/json: the body has five known fields, and reflection would cost
// more than the whole decision (the ip field is the address of the key's
// user, for keys bound to networks). Decoding is strict all the same: unknown or
// repeated fields, wrong types and trailing data are refused.
type postRequest struct {
	key, typ, env, ip string
	seen              uint8
}

// parse decodes s and returns a message for the caller when it is not an
// acceptable body. An empty body is an empty object, so a client may send
// the key in a header only. Messages never quote the input: it may hold a key.
//
// The scopes are appended to scopes and returned, not stored through p, so
// that a caller's stack array does not escape.
func (p *postRequest) parse(s string, scopes []string) ([]string, string) {
	d := decoder{s: s}
	d.space()
	if d.i == len(s) {
		return scopes, ""
	}
	if !d.eat('{') {
		return scopes, "request body must be a JSON object"
	}
	d.space()
	if d.eat('}') {
		return scopes, d.end()
	}
	for {
		name, ok := d.str()
		if !ok {
			return scopes, "request body is not valid JSON"
		}
		d.space()
		if !d.eat(':') {
			return scopes, "request body is not valid JSON"
		}
		d.space()
		var bit uint8
		switch name {
		case "key":
			bit = 1
			if msg := d.optString(&p.key, "key must be a string"); msg != "" {
				return scopes, msg
			}
		case "type":
			bit = 2
			if msg := d.optString(&p.typ, "type must be a string"); msg != "" {
				return scopes, msg
			}
		case "environment":
			bit = 4
			if msg := d.optString(&p.env, `environment must be "production" or "demo"`); msg != "" {
				return scopes, msg
			}
		case "ip":
			bit = 16
			if msg := d.optString(&p.ip, "ip must be an IPv4 or IPv6 address"); msg != "" {
				return scopes, msg
			}
		case "scopes":
			bit = 8
			var msg string
			if scopes, msg = d.scopes(scopes); msg != "" {
				return scopes, msg
			}
		default:
			return scopes, "unknown field in request body: only key, scopes, type, environment and ip are accepted"
		}
		if p.seen&bit != 0 {
			return scopes, "a field appears twice in the request body"
		}
		p.seen |= bit
		d.space()
		if d.eat('}') {
			return scopes, d.end()
		}
		if !d.eat(',') {
			return scopes, "request body is not valid JSON"
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

func (d *decoder) scopes(dst []string) ([]string, string) {
	const msg = "scopes must be an array of non-empty strings"
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
	for {
		s, ok := d.str()
		if !ok || s == "" {
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
