package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// request is one call to the server.
type request struct {
	method, path string
	query        url.Values
	body         any         // sent as JSON when not nil
	header       http.Header // extra headers (verify's Basic auth)
	auth         bool        // send the management key
	// idempotent calls may be sent again after a failure that may pass:
	// repeating them cannot change the outcome.
	idempotent bool
	// verify is the verification path: its own timeout, and a 429 is a
	// decision (the key's rate limit), not a failure to retry.
	verify bool
}

// retryPolicy says when and how long to wait before trying a call again.
type retryPolicy struct {
	max     int           // retries after the first attempt
	base    time.Duration // the first backoff, doubled each time
	ceiling time.Duration // the longest backoff
	// maxWait is the longest Retry-After honoured: a server asking for
	// more is not going to answer soon, and the caller hears so at once.
	maxWait time.Duration
}

var defaultRetry = retryPolicy{max: DefaultMaxRetries, base: 200 * time.Millisecond, ceiling: 2 * time.Second, maxWait: 10 * time.Second}

// call is one management request: it sends r.body as JSON with the
// management key and decodes a 2xx answer into out (when not nil).
func (c *Client) call(ctx context.Context, r request, out any) error {
	r.auth = true
	resp, body, err := c.send(ctx, r)
	if err != nil {
		return err
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return parseError(resp, body)
	}
	if out == nil || resp.StatusCode == http.StatusNoContent {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fmt.Errorf("latchkey: %s %s: decoding the answer: %w", r.method, r.path, err)
	}
	return nil
}

// send performs r, retrying it as the policy allows, and returns the last
// answer read whole. It bounds the whole call with the Client's timeout
// for r's kind.
func (c *Client) send(ctx context.Context, r request) (*http.Response, []byte, error) {
	if r.auth && c.token == "" {
		return nil, nil, ErrNoToken
	}
	var payload []byte
	if r.body != nil {
		var err error
		if payload, err = json.Marshal(r.body); err != nil {
			return nil, nil, fmt.Errorf("latchkey: encoding the request: %w", err)
		}
	}
	timeout := c.timeout
	if r.verify {
		timeout = c.verifyTimeout
	}
	if timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	for attempt := 0; ; attempt++ {
		resp, body, err := c.once(ctx, r, payload)
		if !r.idempotent || attempt >= c.retry.max {
			return resp, body, err
		}
		wait, again := c.retry.next(attempt, resp, err, r.verify)
		if !again || ctx.Err() != nil {
			return resp, body, err
		}
		if dl, ok := ctx.Deadline(); ok && time.Until(dl) < wait {
			// The answer would come too late: say what we have now.
			return resp, body, err
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return resp, body, err
		case <-t.C:
		}
	}
}

// next says whether an attempt's outcome may pass, and how long to wait
// before the next: the server's Retry-After when it gives one, otherwise
// an exponential backoff with jitter, so that many clients refused at once
// do not come back at once.
func (p retryPolicy) next(attempt int, resp *http.Response, err error, verify bool) (time.Duration, bool) {
	backoff := min(p.base<<attempt, p.ceiling)
	backoff = backoff/2 + rand.N(backoff/2+1)
	if err != nil {
		// No answer: refused, reset or timed out. A verification may
		// have spent the key's credits before the answer was lost, so it
		// goes again only when it never reached the server.
		if verify && !neverSent(err) {
			return 0, false
		}
		return backoff, true
	}
	switch resp.StatusCode {
	case http.StatusBadGateway, http.StatusGatewayTimeout:
		if verify {
			return 0, false // a proxy's answer: latchkey may have decided
		}
	case http.StatusServiceUnavailable:
	case http.StatusTooManyRequests:
		if verify {
			return 0, false // the key's rate limit: a decision
		}
	default:
		return 0, false
	}
	if d, ok := retryAfter(resp.Header.Get("Retry-After")); ok {
		if d > p.maxWait {
			return 0, false
		}
		return d, true
	}
	if resp.StatusCode == http.StatusTooManyRequests {
		return 0, false // no hint how long: not ours to guess
	}
	return backoff, true
}

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(time.Until(t), 0), true
	}
	return 0, false
}

// once performs one attempt of r and reads the whole answer.
func (c *Client) once(ctx context.Context, r request, payload []byte) (*http.Response, []byte, error) {
	target := c.base.String() + r.path
	if q := r.query.Encode(); q != "" {
		target += "?" + q
	}
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("latchkey: %s %s: %w", r.method, r.path, err)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.agent)
	if payload != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.auth {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error names the URL, which never holds the token.
		return nil, nil, fmt.Errorf("latchkey: %s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, nil, fmt.Errorf("latchkey: %s %s: reading the answer: %w", r.method, r.path, err)
	}
	return resp, body, nil
}

// neverSent reports whether err happened before the request left: the
// connection could not be made.
func neverSent(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
