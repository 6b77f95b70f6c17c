package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/latchkey/latchkey"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[latchkey.Code]int{
	latchkey.EINVALID:       http.StatusBadRequest,
	latchkey.EUNAUTHORIZED:  http.StatusUnauthorized,
	latchkey.EFORBIDDEN:     http.StatusForbidden,
	latchkey.ENOTFOUND:      http.StatusNotFound,
	latchkey.ECONFLICT:      http.StatusConflict,
	latchkey.ETOOLARGE:      http.StatusRequestEntityTooLarge,
	latchkey.EUNSUPPORTED:   http.StatusUnsupportedMediaType,
	latchkey.EUNPROCESSABLE: http.StatusUnprocessableEntity,
	latchkey.ERATELIMITED:   http.StatusTooManyRequests,
	latchkey.EUNAVAILABLE:   http.StatusServiceUnavailable,
	latchkey.ESTORAGE:       http.StatusServiceUnavailable,
	latchkey.EINTERNAL:      http.StatusInternalServerError,
}

// StatusOf returns the HTTP status for an error code.
func StatusOf(c latchkey.Code) int {
	if s, ok := statusOf[c]; ok {
		return s
	}
	return http.StatusInternalServerError
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    latchkey.Code  `json:"code"`
	Message string         `json:"message"`
	Details map[string]any `json:"details"`
}

// WriteError answers with err in the one error shape. Internal errors are
// logged with the request id and answered with that id only.
func WriteError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	body := errorDetail{Code: latchkey.ErrorCode(err), Message: latchkey.ErrorMessage(err), Details: map[string]any{}}
	var e *latchkey.Error
	if errors.As(err, &e) && e.Details != nil {
		body.Details = e.Details
	}
	status := StatusOf(body.Code)
	switch status {
	case http.StatusInternalServerError:
		rid := w.Header().Get("X-Request-Id")
		log.ErrorContext(r.Context(), "request failed", "request_id", rid, "method", r.Method, "path", r.URL.Path, "err", err.Error())
		body.Message = "internal error; quote request id " + rid + " when reporting it"
		body.Details = map[string]any{"request_id": rid}
	case http.StatusServiceUnavailable:
		// The caller is told to retry; the operator needs to know why.
		log.WarnContext(r.Context(), "request failed: a dependency does not answer", "request_id", w.Header().Get("X-Request-Id"),
			"method", r.Method, "path", r.URL.Path, "err", err.Error())
	}
	if secs, ok := body.Details["retry_after_seconds"].(int); ok && status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", strconv.Itoa(secs))
	}
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="latchkey"`)
	}
	writeJSON(w, status, errorBody{Error: body})
}

// writeJSON answers with v as JSON. Management answers are never cached:
// some of them carry a secret.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"error":{"code":"internal","message":"encoding the answer failed","details":{}}}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// list is the shape of every paginated answer.
type list[T any] struct {
	Data       []T    `json:"data"`
	NextCursor string `json:"next_cursor"`
}
