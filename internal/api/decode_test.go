package api

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

func TestDecode(t *testing.T) {
	big := `{"name":"` + strings.Repeat("a", MaxBody) + `"}`
	cases := []struct {
		name     string
		body     string
		ct       string // Content-Type; "-" for none
		into     func() any
		optional bool
		code     latchkey.Code // "" for success
		msg      string        // a substring of the message
		field    string        // details.field, where one is named
	}{
		{name: "valid", body: `{"name":"Billing","scopes":["items:read"]}`, into: createKey},
		{name: "json suffix media type", body: `{"name":"x"}`, ct: "application/merge-patch+json", into: createKey},
		{name: "charset parameter", body: `{"name":"x"}`, ct: "application/json; charset=utf-8", into: createKey},
		{name: "empty", body: ``, into: createKey, code: latchkey.EINVALID, msg: "the request body is empty"},
		{name: "empty optional", body: ``, into: reset, optional: true},
		{name: "empty optional without content type", body: ``, ct: "-", into: reset, optional: true},
		{name: "whitespace only", body: " \n", into: createKey, code: latchkey.EINVALID, msg: "the request body is empty"},
		{name: "malformed", body: `{"name" "x"}`, into: createKey, code: latchkey.EINVALID, msg: "malformed JSON at byte"},
		{name: "truncated", body: `{"name":`, into: createKey, code: latchkey.EINVALID, msg: "the body ends too soon"},
		{name: "unknown field", body: `{"name":"x","colour":"red"}`, into: createKey, code: latchkey.EINVALID, msg: `unknown field "colour"`, field: "colour"},
		{name: "unknown nested field", body: `{"name":"x","rate_limit":{"limit":1,"period":"1s","burst":2}}`, into: createKey, code: latchkey.EINVALID, msg: `unknown field "burst"`, field: "burst"},
		{name: "field on an empty body type", body: `{"x":1}`, into: func() any { return &struct{}{} }, optional: true, code: latchkey.EINVALID, msg: `unknown field "x"`},
		{name: "wrong type string", body: `{"name":5}`, into: createKey, code: latchkey.EINVALID, msg: "field name must be a string", field: "name"},
		{name: "wrong type array", body: `{"scopes":"items:read"}`, into: createKey, code: latchkey.EINVALID, msg: "field scopes must be an array", field: "scopes"},
		{name: "wrong type number", body: `{"rate_limit":{"limit":"ten"}}`, into: createKey, code: latchkey.EINVALID, msg: "field rate_limit.limit must be a number", field: "rate_limit.limit"},
		{name: "wrong type object", body: `{"settings":[]}`, into: createKey, code: latchkey.EINVALID, msg: "field settings must be an object", field: "settings"},
		{name: "not an object", body: `["name"]`, into: createKey, code: latchkey.EINVALID, msg: "the body must be a JSON object"},
		{name: "a string", body: `"name"`, into: createKey, code: latchkey.EINVALID, msg: "the body must be a JSON object"},
		{name: "duration not a string", body: `{"grace_period":3600}`, into: reset, code: latchkey.EINVALID, msg: "field grace_period must be a duration"},
		{name: "duration not a duration", body: `{"grace_period":"soon"}`, into: reset, code: latchkey.EINVALID, msg: "field grace_period must be a duration"},
		// A bad time is refused, but without naming the field (see the report on decodeError).
		{name: "time not a time", body: `{"expires_at":"tomorrow"}`, into: createKey, code: latchkey.EINVALID},
		{name: "trailing object", body: `{"name":"x"}{"name":"y"}`, into: createKey, code: latchkey.EINVALID, msg: "exactly one JSON object"},
		{name: "trailing garbage", body: `{"name":"x"} x`, into: createKey, code: latchkey.EINVALID, msg: "exactly one JSON object"},
		{name: "trailing whitespace", body: "{\"name\":\"x\"}\n\t ", into: createKey},
		{name: "too large", body: big, into: createKey, code: latchkey.ETOOLARGE, msg: "larger than 1048576 bytes"},
		{name: "too large after the object", body: `{"name":"x"}` + strings.Repeat(" ", MaxBody), into: createKey, code: latchkey.ETOOLARGE},
		{name: "wrong media type", body: `{"name":"x"}`, ct: "text/plain", into: createKey, code: latchkey.EUNSUPPORTED, msg: "Content-Type: application/json"},
		{name: "bad media type", body: `{"name":"x"}`, ct: "json;;", into: createKey, code: latchkey.EUNSUPPORTED},
		{name: "no media type with a body", body: `{"name":"x"}`, ct: "-", into: createKey, code: latchkey.EUNSUPPORTED},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("POST", "/v1/x", strings.NewReader(c.body))
			switch c.ct {
			case "":
				r.Header.Set("Content-Type", "application/json")
			case "-":
			default:
				r.Header.Set("Content-Type", c.ct)
			}
			err := decode(httptest.NewRecorder(), r, c.into(), c.optional)
			if c.code == "" {
				if err != nil {
					t.Fatalf("got %v, want no error", err)
				}
				return
			}
			var e *latchkey.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v (%T), want a *latchkey.Error", err, err)
			}
			if e.Code != c.code {
				t.Errorf("got code %s (%s), want %s", e.Code, e.Message, c.code)
			}
			if !strings.Contains(e.Message, c.msg) {
				t.Errorf("got message %q, want it to contain %q", e.Message, c.msg)
			}
			if c.field != "" && e.Details["field"] != c.field {
				t.Errorf("got details.field %v, want %q", e.Details["field"], c.field)
			}
			if strings.Contains(e.Message, strings.Repeat("a", 100)) {
				t.Error("the message quotes the body")
			}
		})
	}
}

func createKey() any { return &manage.CreateKey{} }
func reset() any     { return &resetRequest{} }

// FuzzDecode feeds arbitrary bodies to the strict decoding of every
// request body of the API, the patch body's second stage included. It may
// refuse anything, but only with a 400 or a 413: never a panic, never
// another error.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(`{"name":"Billing","type":"public_api","environment":"demo","scopes":["items:read"],"expires_in":"30d"}`))
	f.Add([]byte(`{"name":"x","rate_limit":null,"settings":{"retrieve_signatures":true}}`))
	f.Add([]byte(`{"rate_limit":{"limit":10,"period":"1m"}}`))
	f.Add([]byte(`{"grace_period":"1h"}`))
	f.Add([]byte(`{"email":"a@b.co","password":"x"}`))
	f.Add([]byte(`{"name":"x","colour":"red"}`))
	f.Add([]byte(``))
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, into := range []func() any{
			createKey, reset,
			func() any { return &patchRequest{} },
			func() any { return &loginRequest{} },
			func() any { return &struct{}{} },
		} {
			for _, optional := range []bool{false, true} {
				v := into()
				r := httptest.NewRequest("POST", "/v1/x", bytes.NewReader(body))
				r.Header.Set("Content-Type", "application/json")
				err := decode(httptest.NewRecorder(), r, v, optional)
				check(t, err)
				if p, ok := v.(*patchRequest); ok && err == nil {
					// The patch handler's second stage: a rate limit given as raw JSON.
					if raw := bytes.TrimSpace(p.RateLimit); len(raw) > 0 && !bytes.Equal(raw, []byte("null")) {
						check(t, Decode(bytes.NewReader(raw), &latchkey.RateLimit{}, false))
					}
				}
			}
		}
	})
}

func check(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *latchkey.Error
	if !errors.As(err, &e) {
		t.Fatalf("got %v (%T), want a *latchkey.Error", err, err)
	}
	if e.Code != latchkey.EINVALID && e.Code != latchkey.ETOOLARGE {
		t.Fatalf("got code %s (%s), want invalid_request or body_too_large", e.Code, e.Message)
	}
	if StatusOf(e.Code) != http.StatusBadRequest && StatusOf(e.Code) != http.StatusRequestEntityTooLarge {
		t.Fatalf("code %s maps to %d", e.Code, StatusOf(e.Code))
	}
}
