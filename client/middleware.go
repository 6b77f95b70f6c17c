package client

import (
	"context"
	"encoding/base64"
	"log/slog"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
)

// MiddlewareOptions says what the guarded handler requires of a key.
type MiddlewareOptions struct {
	Scopes      []string
	Type        string
	Environment latchkey.Environment
	// OnError answers a request that latchkey could not decide about
	// (unreachable, or unavailable). The default answers 503 with
	// Retry-After: 1, failing closed: a key that cannot be checked is
	// never let through.
	OnError func(w http.ResponseWriter, r *http.Request, err error)
}

type contextKey struct{}

// KeyFromContext returns the key that Middleware verified for the request
// whose context is ctx.
func KeyFromContext(ctx context.Context) (*VerifiedKey, bool) {
	k, ok := ctx.Value(contextKey{}).(*VerifiedKey)
	return k, ok
}

// NewContext returns ctx carrying k, for tests of handlers that read
// KeyFromContext without a latchkey server.
func NewContext(ctx context.Context, k *VerifiedKey) context.Context {
	return context.WithValue(ctx, contextKey{}, k)
}

// Middleware guards a handler with latchkey. It takes the key from
// X-API-Key, Authorization: Bearer, or Authorization: Basic (the key id as
// user name, the key as password), asks c to verify it with the options'
// requirements, answers a refusal (401, 403, 429) with latchkey's own
// status, headers and JSON, and otherwise calls next with the verified key
// in the request's context (KeyFromContext). A request without a key, or
// with an Authorization header that cannot hold one, is refused here
// without asking latchkey, with the answer latchkey would give.
//
// Nothing is cached: a revoked key is refused by the next request.
func Middleware(c *Client, opts MiddlewareOptions) func(http.Handler) http.Handler {
	onError := opts.OnError
	if onError == nil {
		onError = unavailable
	}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tok, keyID, ok := presented(r.Header)
			if !ok {
				refusal(latchkey.KeyMalformed, "The Authorization header is neither a Bearer token nor Basic auth with a key id and a key.").write(w)
				return
			}
			if tok == "" {
				// Nothing to ask latchkey about: answer as it would,
				// without a round trip per anonymous request.
				refusal(latchkey.KeyMissing, "No API key: send it in X-API-Key or Authorization: Bearer.").write(w)
				return
			}
			res, err := c.Verify(r.Context(), VerifyRequest{
				Key: tok, KeyID: keyID, Scopes: opts.Scopes, Type: opts.Type, Environment: opts.Environment,
			})
			if err != nil {
				onError(w, r, err)
				return
			}
			if !res.Valid {
				res.write(w)
				return
			}
			next.ServeHTTP(w, r.WithContext(NewContext(r.Context(), res.Key)))
		})
	}
}

// presented finds the key in the headers as the verify endpoint does.
// ok is false for an Authorization header that cannot hold a key; no key
// at all is ok with an empty token, which is answered key_missing.
func presented(h http.Header) (tok, keyID string, ok bool) {
	if k := h.Get("X-API-Key"); k != "" {
		return k, "", true
	}
	auth := h.Get("Authorization")
	if auth == "" {
		return "", "", true
	}
	scheme, rest, _ := strings.Cut(auth, " ")
	rest = strings.TrimSpace(rest)
	switch {
	case strings.EqualFold(scheme, "Bearer") && rest != "":
		return rest, "", true
	case strings.EqualFold(scheme, "Basic") && rest != "":
		b, err := base64.StdEncoding.DecodeString(rest)
		if err != nil {
			return "", "", false
		}
		user, pass, found := strings.Cut(string(b), ":")
		if !found || user == "" || pass == "" {
			return "", "", false
		}
		return pass, user, true
	}
	return "", "", false
}

// unavailable is the default OnError. The error is logged without the
// request's credentials; it never contains them.
func unavailable(w http.ResponseWriter, r *http.Request, err error) {
	slog.WarnContext(r.Context(), "latchkey: cannot verify the API key", "err", err.Error())
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("Retry-After", "1")
	w.WriteHeader(http.StatusServiceUnavailable)
	_, _ = w.Write([]byte(`{"valid":false,"error":{"code":"unavailable","message":"The API key cannot be verified right now; retry shortly.","details":{}}}` + "\n"))
}
