package scim

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"

	"github.com/latchkey/latchkey"
)

// ContentType is SCIM's media type; requests may also be application/json.
const ContentType = "application/scim+json"

// Schema URNs of SCIM's messages.
const (
	errorSchema = "urn:ietf:params:scim:api:messages:2.0:Error"
	listSchema  = "urn:ietf:params:scim:api:messages:2.0:ListResponse"
	patchSchema = "urn:ietf:params:scim:api:messages:2.0:PatchOp"
)

// answerOf is the one table from latchkey's error codes to SCIM's answer:
// the HTTP status and the default scimType. An error may name a more
// precise scimType in its "scim_type" detail (invalidFilter, invalidPath,
// noTarget, mutability, …).
var answerOf = map[latchkey.Code]struct {
	status   int
	scimType string
}{
	latchkey.EINVALID:       {http.StatusBadRequest, "invalidValue"},
	latchkey.EUNPROCESSABLE: {http.StatusBadRequest, "invalidValue"},
	latchkey.EUNAUTHORIZED:  {http.StatusUnauthorized, ""},
	latchkey.EFORBIDDEN:     {http.StatusForbidden, ""},
	latchkey.ENOTFOUND:      {http.StatusNotFound, ""},
	latchkey.ECONFLICT:      {http.StatusConflict, "uniqueness"},
	latchkey.ETOOLARGE:      {http.StatusRequestEntityTooLarge, ""},
	latchkey.EUNSUPPORTED:   {http.StatusUnsupportedMediaType, ""},
	latchkey.ERATELIMITED:   {http.StatusTooManyRequests, ""},
	latchkey.EUNAVAILABLE:   {http.StatusServiceUnavailable, ""},
	latchkey.ESTORAGE:       {http.StatusServiceUnavailable, ""},
	latchkey.EINTERNAL:      {http.StatusInternalServerError, ""},
}

// errorBody is SCIM's Error message (RFC 7644 §3.12).
type errorBody struct {
	Schemas  []string `json:"schemas"`
	Status   string   `json:"status"`
	ScimType string   `json:"scimType,omitempty"`
	Detail   string   `json:"detail"`
}

func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := latchkey.ErrorCode(err)
	a, ok := answerOf[code]
	if !ok {
		a = answerOf[latchkey.EINTERNAL]
	}
	body := errorBody{Schemas: []string{errorSchema}, Status: strconv.Itoa(a.status), ScimType: a.scimType, Detail: latchkey.ErrorMessage(err)}
	var e *latchkey.Error
	if errors.As(err, &e) {
		if t, ok := e.Details["scim_type"].(string); ok {
			body.ScimType = t
		}
	}
	if a.status == http.StatusInternalServerError {
		rid := w.Header().Get("X-Request-Id")
		h.log.ErrorContext(r.Context(), "scim request failed", "request_id", rid, "method", r.Method, "path", r.URL.Path, "err", err.Error())
		body.Detail = "internal error; quote request id " + rid + " when reporting it"
	}
	if a.status == http.StatusServiceUnavailable {
		// The identity provider retries; the operator needs to know why.
		h.log.WarnContext(r.Context(), "scim request failed: a dependency does not answer", "request_id", w.Header().Get("X-Request-Id"),
			"method", r.Method, "path", r.URL.Path, "err", err.Error())
	}
	if a.status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="latchkey SCIM"`)
	}
	writeJSON(w, a.status, body)
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"schemas":["`+errorSchema+`"],"status":"500","detail":"encoding the answer failed"}`)
	}
	h := w.Header()
	h.Set("Content-Type", ContentType)
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// maxBody caps a request body: a group PATCH adding thousands of members
// fits, a runaway client does not.
const maxBody = 4 << 20

// decode reads a JSON object from the body.
func decode(q *request) (map[string]any, error) {
	b, err := io.ReadAll(http.MaxBytesReader(q.w, q.r.Body, maxBody))
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return nil, latchkey.Errorf(latchkey.ETOOLARGE, "the body is larger than %d bytes", maxBody)
	}
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "reading the body failed").WithDetail("scim_type", "invalidSyntax")
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil || m == nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "the body must be a JSON object").WithDetail("scim_type", "invalidSyntax")
	}
	return m, nil
}

func methodNotAllowed(r *http.Request) error {
	return latchkey.Errorf(latchkey.ENOTFOUND, "%s is not supported on %s", r.Method, r.URL.Path)
}

func invalid(scimType, format string, args ...any) error {
	return latchkey.Errorf(latchkey.EINVALID, format, args...).WithDetail("scim_type", scimType)
}
