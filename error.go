// Package latchkey is the domain of the latchkey API key service: workspaces,
// members and roles, keys and their types, the expiration policy, audit events,
// the one authorization table, and the storage contract its adapters implement.
//
// It imports the standard library only, so every adapter (SQLite, PostgreSQL,
// HTTP, console, SCIM) depends on it and never on each other.
package latchkey

import (
	"context"
	"errors"
	"fmt"
)

// Code is a machine-readable error code, sent to clients as "error.code".
type Code string

// Error codes. Each maps to exactly one HTTP status in internal/api.
const (
	EINVALID       Code = "invalid_request"   // 400: the input is malformed or fails validation
	EUNAUTHORIZED  Code = "unauthenticated"   // 401: no or bad credentials
	EFORBIDDEN     Code = "forbidden"         // 403: authenticated but not allowed
	ENOTFOUND      Code = "not_found"         // 404: missing, or in another workspace
	ECONFLICT      Code = "conflict"          // 409: the state forbids it (duplicate, already initialised)
	ETOOLARGE      Code = "body_too_large"    // 413
	EUNPROCESSABLE Code = "unprocessable"     // 422: well-formed but semantically impossible
	ERATELIMITED   Code = "rate_limited"      // 429
	EUNSUPPORTED   Code = "unsupported_media" // 415
	EUNAVAILABLE   Code = "unavailable"       // 503: a dependency (the store) does not answer
	EINTERNAL      Code = "internal"          // 500: a bug

	// ESTORAGE (503): the store refuses writes because its disk is full or
	// the database is read-only; reads and verification may still work.
	ESTORAGE Code = "storage_unavailable"
)

// Error is the one error type of latchkey. Message is safe to show to the
// caller: it never contains a secret. Details carries structured context,
// such as the fields that failed validation.
type Error struct {
	Code    Code
	Message string
	Details map[string]any
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// Errorf returns an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// WithDetail returns e with one more detail set; it mutates and returns e so
// construction reads as one expression.
func (e *Error) WithDetail(key string, value any) *Error {
	if e.Details == nil {
		e.Details = map[string]any{}
	}
	e.Details[key] = value
	return e
}

// ErrorCode returns the code of the *Error in err's chain, EUNAVAILABLE for
// an operation that ran out of time (a store that does not answer is not a
// bug), EINTERNAL for any other non-nil error, and "" for nil.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return EUNAVAILABLE
	}
	return EINTERNAL
}

// ErrorMessage returns the caller-safe message of err; other errors get a
// generic message so that nothing about the implementation leaks.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return "the request took too long; retry shortly"
	}
	return "internal error"
}

// IsNotFound reports whether err is an ENOTFOUND error.
func IsNotFound(err error) bool { return ErrorCode(err) == ENOTFOUND }
