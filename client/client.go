// Package client is the Go client of a latchkey server: the management API
// (create, list, reset, revoke and delete API keys, read the audit log) over
// a management key, and key verification for Go services, with a net/http
// middleware that guards a handler with latchkey.
//
// It stands alone: it imports no internal package of latchkey, only the
// root package for its shared enumerations (environments, statuses and
// verification codes), so a service can depend on it without the server.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// UserAgent is the User-Agent sent unless WithUserAgent says otherwise.
const UserAgent = "latchkey-go-client/1"

// maxAnswer bounds how much of an answer is read, so a misconfigured URL
// pointing at something that streams cannot exhaust memory.
const maxAnswer = 16 << 20

// defaultHTTPClient bounds every call, so a server that stops answering
// cannot hang a caller that passed a context without a deadline.
var defaultHTTPClient = &http.Client{Timeout: 30 * time.Second}

// Client calls one latchkey server. It is safe for concurrent use.
type Client struct {
	base  *url.URL
	token string
	http  *http.Client
	agent string
	err   error // a bad base URL, reported by every call
}

// Option configures a Client.
type Option func(*Client)

// WithToken sets the management key sent as a Bearer token on management
// calls. Verify never sends it: the verify endpoint would take it for the
// key to check.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient sets the http.Client used for every call, for timeouts,
// proxies or TLS settings; the default is one with a 30s timeout.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent sets the User-Agent header, so the server's logs can tell
// the callers apart.
func WithUserAgent(ua string) Option { return func(c *Client) { c.agent = ua } }

// New returns a client of the server at baseURL (such as
// "https://keys.example.com"). A malformed baseURL is reported by the first
// call rather than here, so New composes in expressions.
func New(baseURL string, opts ...Option) *Client {
	c := &Client{agent: UserAgent, http: defaultHTTPClient}
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	switch {
	case err != nil:
		c.err = fmt.Errorf("latchkey: invalid base URL: %w", err)
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		c.err = fmt.Errorf("latchkey: invalid base URL %q: want http(s)://host[:port]", baseURL)
	case u.User != nil:
		// Credentials in a URL end up in logs and error messages.
		c.err = errors.New("latchkey: the base URL must not hold credentials; use WithToken")
	}
	c.base = u
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = defaultHTTPClient
	}
	return c
}

// Error is an error answer of the server, in its one error shape
// {"error": {"code", "message", "details"}}. Read it with errors.As.
type Error struct {
	Status  int            // the HTTP status
	Code    string         // machine-readable, such as "not_found" or "invalid_request"
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

// IsNotFound reports whether err is a 404 answer: the object does not
// exist, or belongs to another workspace.
func IsNotFound(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Status == http.StatusNotFound
}

type errorBody struct {
	Error struct {
		Code    string         `json:"code"`
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
		e.Code = "http_" + fmt.Sprint(resp.StatusCode)
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

// call is one management request: it sends in as JSON (when not nil) with
// the management key and decodes a 2xx answer into out (when not nil).
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	resp, body, err := c.send(ctx, method, path, query, in, true, nil)
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
		return fmt.Errorf("latchkey: %s %s: decoding the answer: %w", method, path, err)
	}
	return nil
}

// send performs a request to path (already escaped) and reads the whole
// answer. Only management calls carry the token; header adds request
// headers (verify's Basic auth).
func (c *Client) send(ctx context.Context, method, path string, query url.Values, in any, auth bool, header http.Header) (*http.Response, []byte, error) {
	if c.err != nil {
		return nil, nil, c.err
	}
	target := c.base.String() + path
	if q := query.Encode(); q != "" {
		target += "?" + q
	}
	var rd io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return nil, nil, fmt.Errorf("latchkey: encoding the request: %w", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, nil, fmt.Errorf("latchkey: %s %s: %w", method, path, err)
	}
	for k, vs := range header {
		req.Header[k] = vs
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.agent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if auth {
		if c.token == "" {
			return nil, nil, errors.New("latchkey: no management key: create the client WithToken")
		}
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// *url.Error names the URL, which never holds the token.
		return nil, nil, fmt.Errorf("latchkey: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, nil, fmt.Errorf("latchkey: %s %s: reading the answer: %w", method, path, err)
	}
	return resp, body, nil
}

// wsPath is the escaped path of a workspace resource: ids come from user
// input and must not be able to add segments or a query.
func wsPath(ws string, rest ...string) string {
	p := "/v1/workspaces/" + url.PathEscape(ws)
	for _, r := range rest {
		p += "/" + url.PathEscape(r)
	}
	return p
}
