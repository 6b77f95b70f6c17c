package client

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/latchkey/latchkey"
)

// VerifyRequest asks whether Key may make a request. Empty fields require
// nothing.
type VerifyRequest struct {
	Key string
	// KeyID, when set, must be the key's id: the user name of Basic auth.
	KeyID       string
	Scopes      []string
	Type        string
	Environment latchkey.Environment
	// Tags label the verification ("path=/v1/items", "version=2.1"; at
	// most 10 of at most 128 bytes) for the key's usage per tag
	// (KeyUsageTags).
	Tags []string
	// Cost is what the verification spends of a key's credits: nil for
	// the server's default of 1; a pointer to 0 spends nothing.
	Cost *int64
	// Limits names the key's named rate limits that apply, each with
	// its cost; nil applies every limit of the key at cost 1, and an
	// empty non-nil slice none.
	Limits []LimitUse
}

// LimitUse is a named rate limit a verification applies, and its cost
// (0: the default, 1).
type LimitUse struct {
	Name string `json:"name"`
	Cost int64  `json:"cost,omitempty"`
}

// Budget is what a verification left of a key's credits or of one of its
// named rate limits. Remaining is an upper bound while other instances
// hold leases, and -1 when unknown; Reset is zero when it never refills.
type Budget struct {
	Name      string    `json:"name"`  // "" for credits
	Limit     int64     `json:"limit"` // 0 for credits
	Remaining int64     `json:"-"`
	Reset     time.Time `json:"-"`
}

// budgetAnswer is a Budget as the server writes it (null remaining and reset).
type budgetAnswer struct {
	Name      string     `json:"name"`
	Limit     int64      `json:"limit"`
	Remaining *int64     `json:"remaining"`
	Reset     *time.Time `json:"reset"`
}

func (b *budgetAnswer) budget() *Budget {
	if b == nil {
		return nil
	}
	out := &Budget{Name: b.Name, Limit: b.Limit, Remaining: -1}
	if b.Remaining != nil {
		out.Remaining = *b.Remaining
	}
	if b.Reset != nil {
		out.Reset = *b.Reset
	}
	return out
}

// VerifyResult is latchkey's decision. A refused key (401, 403, 429) is a
// result, not an error: Valid is false and Code says why.
type VerifyResult struct {
	Valid bool
	// Key is the verified key; nil unless Valid.
	Key     *VerifiedKey
	Code    latchkey.VerifyCode // "" when Valid
	Message string
	// Missing lists the required scopes the key lacks (insufficient_scope).
	Missing []string
	// RetryAfter is how long a rate-limited key must wait (rate_limited),
	// or until its credits refill (usage_exceeded).
	RetryAfter time.Duration
	// Credits is set when the key has credits: what this verification
	// left of them. Limits are the named limits it applied; on a
	// rate_limited refusal, the one that refused.
	Credits *Budget
	Limits  []Budget

	status    int
	body      []byte // the server's answer, passed on as it is by Middleware
	challenge string // WWW-Authenticate
}

// VerifiedKey is a valid key as the verify answer describes it.
type VerifiedKey struct {
	ID          string               `json:"id"`
	WorkspaceID string               `json:"workspace_id"`
	Name        string               `json:"name"`
	Type        string               `json:"type"`
	Environment latchkey.Environment `json:"environment"`
	Owner       string               `json:"owner"`
	Scopes      []string             `json:"scopes"`
	Settings    map[string]any       `json:"settings"`
	ExpiresAt   *time.Time           `json:"expires_at"`
}

// HasScope reports whether the key holds scope, for handlers whose needs
// depend on the request beyond what the middleware required.
func (k *VerifiedKey) HasScope(scope string) bool { return slices.Contains(k.Scopes, scope) }

// Demo reports whether the key is a demo key, whose traffic is not billed.
func (k *VerifiedKey) Demo() bool { return k.Environment == latchkey.Demo }

type verifyAnswer struct {
	Valid      bool           `json:"valid"`
	Key        *VerifiedKey   `json:"key"`
	Credits    *budgetAnswer  `json:"credits"`
	Ratelimits []budgetAnswer `json:"ratelimits"`
	Error      struct {
		Code    latchkey.VerifyCode `json:"code"`
		Message string              `json:"message"`
		Details struct {
			MissingScopes     []string      `json:"missing_scopes"`
			RetryAfterSeconds int64         `json:"retry_after_seconds"`
			Credits           *budgetAnswer `json:"credits"`
			Ratelimit         *budgetAnswer `json:"ratelimit"`
		} `json:"details"`
	} `json:"error"`
}

// Verify asks the server whether in.Key is valid for the request described
// by in. It returns an error only when there is no decision: the server is
// unreachable or unavailable (503) after the retries the verify timeout
// leaves room for, or the request itself is malformed. The management key
// is never sent: verification needs none.
func (c *Client) Verify(ctx context.Context, in VerifyRequest) (*VerifyResult, error) {
	body := map[string]any{}
	var header http.Header
	if in.KeyID != "" {
		// The POST body has no key id; Basic auth carries it, and the
		// server reads the key from the header when the body has none.
		cred := base64.StdEncoding.EncodeToString([]byte(in.KeyID + ":" + in.Key))
		header = http.Header{"Authorization": {"Basic " + cred}}
	} else {
		body["key"] = in.Key
	}
	if len(in.Scopes) > 0 {
		body["scopes"] = in.Scopes
	}
	if in.Type != "" {
		body["type"] = in.Type
	}
	if in.Environment != "" {
		body["environment"] = in.Environment
	}
	if len(in.Tags) > 0 {
		body["tags"] = in.Tags
	}
	if in.Cost != nil {
		body["credits"] = map[string]int64{"cost": *in.Cost}
	}
	if in.Limits != nil {
		body["ratelimits"] = in.Limits
	}
	resp, raw, err := c.send(ctx, request{method: http.MethodPost, path: "/v1/keys/verify", body: body, header: header,
		idempotent: true, verify: true})
	if err != nil {
		return nil, err
	}
	switch resp.StatusCode {
	case http.StatusOK, http.StatusUnauthorized, http.StatusForbidden, http.StatusTooManyRequests:
	default:
		return nil, parseError(resp, raw)
	}
	var a verifyAnswer
	if err := json.Unmarshal(raw, &a); err != nil {
		if resp.StatusCode != http.StatusOK {
			// Not the verifier's answer: something in between refused us.
			return nil, parseError(resp, raw)
		}
		return nil, fmt.Errorf("latchkey: verify: decoding the answer: %w", err)
	}
	res := &VerifyResult{status: resp.StatusCode, body: raw, challenge: resp.Header.Get("WWW-Authenticate")}
	if resp.StatusCode == http.StatusOK {
		if !a.Valid || a.Key == nil {
			return nil, fmt.Errorf("latchkey: verify: a 200 answer without a valid key")
		}
		res.Valid, res.Key, res.Credits = true, a.Key, a.Credits.budget()
		for i := range a.Ratelimits {
			res.Limits = append(res.Limits, *a.Ratelimits[i].budget())
		}
		return res, nil
	}
	if a.Error.Code == "" {
		// Not the verifier's answer: something in between refused us.
		return nil, parseError(resp, raw)
	}
	res.Code, res.Message, res.Missing = a.Error.Code, a.Error.Message, a.Error.Details.MissingScopes
	res.Credits = a.Error.Details.Credits.budget()
	if l := a.Error.Details.Ratelimit.budget(); l != nil {
		res.Limits = []Budget{*l}
	}
	if s, err := strconv.ParseInt(resp.Header.Get("Retry-After"), 10, 64); err == nil && s > 0 {
		res.RetryAfter = time.Duration(s) * time.Second
	} else if a.Error.Details.RetryAfterSeconds > 0 {
		res.RetryAfter = time.Duration(a.Error.Details.RetryAfterSeconds) * time.Second
	}
	return res, nil
}

// refusal is a decision made without asking the server, for a request
// whose credentials cannot be a key at all.
func refusal(code latchkey.VerifyCode, msg string) *VerifyResult {
	challenge := `Bearer realm="latchkey", error="invalid_token"`
	if code == latchkey.KeyMissing {
		// RFC 6750 §3.1: a request without credentials gets no error code.
		challenge = `Bearer realm="latchkey"`
	}
	return &VerifyResult{Code: code, Message: msg, challenge: challenge}
}

// write answers a refused request as the verify endpoint does: same
// status, headers and body.
func (r *VerifyResult) write(w http.ResponseWriter) {
	body := r.body
	if len(body) == 0 {
		// In the verify endpoint's order, so both answers read alike.
		type detail struct {
			Code    latchkey.VerifyCode `json:"code"`
			Message string              `json:"message"`
			Details struct{}            `json:"details"`
		}
		body, _ = json.Marshal(struct {
			Valid bool   `json:"valid"`
			Error detail `json:"error"`
		}{false, detail{Code: r.Code, Message: r.Message}})
	}
	status := r.status
	if status == 0 {
		status = r.Code.HTTPStatus()
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	if r.challenge != "" {
		h.Set("WWW-Authenticate", r.challenge)
	}
	if r.RetryAfter > 0 {
		h.Set("Retry-After", strconv.FormatInt(int64((r.RetryAfter+time.Second-1)/time.Second), 10))
	}
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
