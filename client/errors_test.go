package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/latchkey/latchkey/client"
)

func TestErrorSentinels(t *testing.T) {
	tests := []struct {
		status   int
		code     string
		sentinel error
	}{
		{400, "invalid_request", client.ErrInvalidRequest},
		{401, "unauthenticated", client.ErrUnauthenticated},
		{403, "forbidden", client.ErrForbidden},
		{404, "not_found", client.ErrNotFound},
		{409, "conflict", client.ErrConflict},
		{429, "rate_limited", client.ErrRateLimited},
		{500, "internal", client.ErrInternal},
		{503, "unavailable", client.ErrUnavailable},
	}
	all := []error{client.ErrInvalidRequest, client.ErrUnauthenticated, client.ErrForbidden, client.ErrNotFound,
		client.ErrConflict, client.ErrRateLimited, client.ErrInternal, client.ErrUnavailable}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				answer(w, tt.status, fmt.Sprintf(`{"error":{"code":%q,"message":"m","details":{"field":"grace_period"}}}`, tt.code))
			}))
			defer srv.Close()
			_, err := newClient(t, srv.URL, client.WithToken(testToken), client.WithMaxRetries(0)).GetKey(context.Background(), "ws_1", "key_1")
			// Wrapped once more, as callers do.
			err = fmt.Errorf("loading the key: %w", err)
			for _, s := range all {
				if got := errors.Is(err, s); got != (s == tt.sentinel) {
					t.Errorf("errors.Is(err, %v): got %v", s, got)
				}
			}
			var e *client.Error
			if !errors.As(err, &e) || e.Code != client.ErrorCode(tt.code) || e.Field() != "grace_period" {
				t.Errorf("got %v, want a *client.Error with code %s and field grace_period", err, tt.code)
			}
		})
	}
	if errors.Is(errors.New("not_found"), client.ErrNotFound) {
		t.Error("a plain error matched ErrNotFound")
	}
}

func TestNoTokenSendsNothing(t *testing.T) {
	called := false
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { called = true }))
	defer srv.Close()
	if _, err := newClient(t, srv.URL).ListKeys(context.Background(), "ws_1", client.ListKeysOptions{}); !errors.Is(err, client.ErrNoToken) || called {
		t.Errorf("got %v (server called: %v), want ErrNoToken and no request", err, called)
	}
}
