package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"reflect"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// MaxBody is the largest request body accepted.
const MaxBody = 1 << 20

// decode reads a JSON body into v strictly: application/json only, at most
// MaxBody bytes, no unknown fields, one value. With optional, an empty body
// leaves v as it is.
func decode(w http.ResponseWriter, r *http.Request, v any, optional bool) error {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || (mt != "application/json" && !strings.HasSuffix(mt, "+json")) {
			return latchkey.Errorf(latchkey.EUNSUPPORTED, "send the body as JSON with Content-Type: application/json")
		}
	} else if r.ContentLength != 0 {
		return latchkey.Errorf(latchkey.EUNSUPPORTED, "send the body as JSON with Content-Type: application/json")
	}
	return Decode(http.MaxBytesReader(w, r.Body, MaxBody), v, optional)
}

// Decode reads one strict JSON value from body into v and turns every
// failure into a clear EINVALID or ETOOLARGE error.
func Decode(body io.Reader, v any, optional bool) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return decodeError(err, optional)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return decodeError(err, false)
		}
		return latchkey.Errorf(latchkey.EINVALID, "the body must hold exactly one JSON object")
	}
	return nil
}

func decodeError(err error, optional bool) error {
	var (
		tooBig    *http.MaxBytesError
		syntax    *json.SyntaxError
		typeErr   *json.UnmarshalTypeError
		domainErr *latchkey.Error
		timeErr   *time.ParseError
	)
	switch {
	case errors.Is(err, io.EOF):
		if optional {
			return nil
		}
		return latchkey.Errorf(latchkey.EINVALID, "the request body is empty; send a JSON object")
	case errors.As(err, &tooBig):
		return latchkey.Errorf(latchkey.ETOOLARGE, "the request body is larger than %d bytes", MaxBody)
	case errors.As(err, &syntax):
		return latchkey.Errorf(latchkey.EINVALID, "malformed JSON at byte %d", syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return latchkey.Errorf(latchkey.EINVALID, "malformed JSON: the body ends too soon")
	case errors.As(err, &typeErr):
		field := typeErr.Field
		if field == "" {
			return latchkey.Errorf(latchkey.EINVALID, "the body must be a JSON object")
		}
		if typeErr.Type == reflect.TypeFor[latchkey.Duration]() {
			return latchkey.Errorf(latchkey.EINVALID, "field %s must be a duration such as \"1h\", \"30d\" or \"1y\"", field).WithDetail("field", field)
		}
		return latchkey.Errorf(latchkey.EINVALID, "field %s must be %s", field, kindName(typeErr.Type.Kind().String())).WithDetail("field", field)
	case errors.As(err, &timeErr):
		return latchkey.Errorf(latchkey.EINVALID, "times must be RFC 3339, such as 2026-01-31T12:00:00Z")
	case errors.As(err, &domainErr):
		return domainErr
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		field := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		return latchkey.Errorf(latchkey.EINVALID, "unknown field %q", field).WithDetail("field", field)
	}
	return latchkey.Errorf(latchkey.EINVALID, "malformed JSON body")
}

func kindName(k string) string {
	switch k {
	case "slice", "array":
		return "an array"
	case "map", "struct", "ptr":
		return "an object"
	case "bool":
		return "true or false"
	case "string":
		return "a string"
	}
	if strings.HasPrefix(k, "int") || strings.HasPrefix(k, "uint") || strings.HasPrefix(k, "float") {
		return "a number"
	}
	return "of another type"
}
