package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
)

// ErrorCode is the machine-readable code of an error answer ("error.code").
// Match a code with errors.Is and its sentinel error:
//
//	if errors.Is(err, client.ErrNotFound) { ... }
type ErrorCode string

// The error codes of the management API, one per HTTP status.
const (
	CodeInvalidRequest     ErrorCode = "invalid_request"     // 400: the input fails validation; Details["field"] names it
	CodeUnauthenticated    ErrorCode = "unauthenticated"     // 401: no management key, or a refused one
	CodeForbidden          ErrorCode = "forbidden"           // 403: the key's scopes or its creator's role do not allow it
	CodeNotFound           ErrorCode = "not_found"           // 404: missing, or in another workspace
	CodeConflict           ErrorCode = "conflict"            // 409: the object's state forbids it (a revoked key)
	CodeBodyTooLarge       ErrorCode = "body_too_large"      // 413
	CodeUnsupportedMedia   ErrorCode = "unsupported_media"   // 415
	CodeUnprocessable      ErrorCode = "unprocessable"       // 422: well-formed but impossible
	CodeRateLimited        ErrorCode = "rate_limited"        // 429
	CodeInternal           ErrorCode = "internal"            // 500: quote Error.RequestID
	CodeUnavailable        ErrorCode = "unavailable"         // 503: retry shortly
	CodeStorageUnavailable ErrorCode = "storage_unavailable" // 503: the server refuses writes (disk full, read-only database)
)

// codeError is the sentinel of one ErrorCode.
type codeError struct{ code ErrorCode }

func (e *codeError) Error() string { return "latchkey: " + string(e.code) }

// Sentinel errors, matched with errors.Is against any error a call returns:
// a *Error matches the sentinel of its code.
var (
	ErrInvalidRequest     error = &codeError{CodeInvalidRequest}
	ErrUnauthenticated    error = &codeError{CodeUnauthenticated}
	ErrForbidden          error = &codeError{CodeForbidden}
	ErrNotFound           error = &codeError{CodeNotFound}
	ErrConflict           error = &codeError{CodeConflict}
	ErrUnprocessable      error = &codeError{CodeUnprocessable}
	ErrRateLimited        error = &codeError{CodeRateLimited}
	ErrInternal           error = &codeError{CodeInternal}
	ErrUnavailable        error = &codeError{CodeUnavailable}
	ErrStorageUnavailable error = &codeError{CodeStorageUnavailable}
)

// ErrNoToken is returned by a management call of a Client made without
// WithToken; nothing is sent.
var ErrNoToken = errors.New("latchkey: no management key: create the client WithToken")

// Error is an error answer of the server, in its one error shape
// {"error": {"code", "message", "details"}}. Read it with errors.As, or
// match its code with errors.Is and the Err sentinels.
type Error struct {
	Status  int            // the HTTP status
	Code    ErrorCode      // machine-readable, such as CodeNotFound
	Message string         // safe to show to a person
	Details map[string]any // structured context, such as the "field" that failed
	// RequestID identifies the request in the server's logs; quote it
	// when reporting a 5xx.
	RequestID string
}

// Error describes the answer for logs and people; it quotes the request id
// of server errors, which operators need to find the cause.
func (e *Error) Error() string {
	msg := fmt.Sprintf("latchkey: %d %s: %s", e.Status, e.Code, e.Message)
	if e.RequestID != "" && e.Status >= 500 {
		msg += " (request id " + e.RequestID + ")"
	}
	return msg
}

// Is reports whether target is the sentinel of e's code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*codeError)
	return ok && t.code == e.Code
}

// Field is the request field that failed validation ("grace_period",
// "rate_limit.limit", "settings.retrieve_signatures"), or "".
func (e *Error) Field() string {
	f, _ := e.Details["field"].(string)
	return f
}

// IsNotFound reports whether err is a 404 answer: the object does not
// exist, or belongs to another workspace. It is errors.Is(err, ErrNotFound).
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

type errorBody struct {
	Error struct {
		Code    ErrorCode      `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

// parseError builds the Error of a failed answer. A body that is not in
// the API's shape (a proxy's HTML page) still yields an Error, with a code
// derived from the status.
func parseError(resp *http.Response, body []byte) *Error {
	e := &Error{Status: resp.StatusCode, RequestID: resp.Header.Get("X-Request-Id")}
	var eb errorBody
	if json.Unmarshal(body, &eb) == nil && eb.Error.Code != "" {
		e.Code, e.Message, e.Details = eb.Error.Code, eb.Error.Message, eb.Error.Details
	} else {
		e.Code = ErrorCode(fmt.Sprint("http_", resp.StatusCode))
		e.Message = strings.TrimSpace(string(body))
		if len(e.Message) > 200 {
			e.Message = e.Message[:200] + "…"
		}
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
	}
	if rid, ok := e.Details["request_id"].(string); ok && e.RequestID == "" {
		e.RequestID = rid
	}
	return e
}
