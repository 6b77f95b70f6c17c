// Package client is the Go client of a latchkey server: the management API
// (create, list, update, reset, revoke and delete API keys, read their
// usage, the workspace's settings, members and audit log) over a management
// key; key verification for Go services, with a net/http middleware that
// guards a handler with latchkey; and the verification of the webhooks
// latchkey sends to a key's callback URL.
//
// It stands alone: it imports no internal package of latchkey, only the
// root package for its shared enumerations (environments, statuses and
// verification codes), so a service can depend on it without the server.
//
// Calls that can be repeated without changing the outcome (reads, key
// updates, revoke, disable, enable, delete, member role changes and
// removals, the platform's provisioning, verification) are retried with
// backoff when the server is unreachable or answers 502, 503 or 504 (or,
// for management calls, 429 with a Retry-After), honouring Retry-After;
// calls that make something new (CreateKey, ResetKey, AddMember,
// CreatePortalSession) are sent once, so a retry never makes a second key,
// secret or invitation.
package client

import (
	"errors"
	"fmt"
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

// Default timeouts. A management call may wait on a busy database; a
// verification sits in front of every request of the caller's API, where
// waiting long is worse than answering 503 and letting the client retry.
const (
	DefaultTimeout       = 30 * time.Second
	DefaultVerifyTimeout = 2 * time.Second
	DefaultMaxRetries    = 2
)

// Client calls one latchkey server. It is safe for concurrent use.
type Client struct {
	base          *url.URL
	token         string
	http          *http.Client
	agent         string
	timeout       time.Duration
	verifyTimeout time.Duration
	retry         retryPolicy
}

// Option configures a Client.
type Option func(*Client)

// WithToken sets the management key sent as a Bearer token on management
// calls. Verify never sends it: the verify endpoint would take it for the
// key to check.
func WithToken(token string) Option { return func(c *Client) { c.token = token } }

// WithHTTPClient sets the http.Client used for every call, for proxies or
// TLS settings. Its own Timeout, if any, bounds each attempt; the Client's
// timeouts (WithTimeout, WithVerifyTimeout) bound each call with its retries.
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent sets the User-Agent header, so the server's logs can tell
// the callers apart.
func WithUserAgent(ua string) Option { return func(c *Client) { c.agent = ua } }

// WithTimeout bounds each management call, retries included (default
// DefaultTimeout); 0 leaves only the context's deadline.
func WithTimeout(d time.Duration) Option { return func(c *Client) { c.timeout = d } }

// WithVerifyTimeout bounds each verification, retries included (default
// DefaultVerifyTimeout); 0 leaves only the context's deadline.
func WithVerifyTimeout(d time.Duration) Option { return func(c *Client) { c.verifyTimeout = d } }

// WithMaxRetries sets how many times a call that may be repeated is tried
// again after a failure that may pass (default DefaultMaxRetries); 0 never
// retries.
func WithMaxRetries(n int) Option {
	return func(c *Client) { c.retry.max = max(n, 0) }
}

// New returns a client of the server at baseURL (such as
// "https://keys.example.com"). It refuses a baseURL that is not an http(s)
// URL of a host, or that holds credentials (they would end up in logs and
// error messages; use WithToken).
func New(baseURL string, opts ...Option) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	switch {
	case err != nil:
		// url.Error repeats the URL, which may hold a password.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("latchkey: invalid base URL: %w", err)
	case u.User != nil:
		return nil, errors.New("latchkey: the base URL must not hold credentials; use WithToken")
	case u.Scheme != "http" && u.Scheme != "https", u.Host == "":
		return nil, fmt.Errorf("latchkey: invalid base URL %q: want http(s)://host[:port]", baseURL)
	case u.RawQuery != "" || u.Fragment != "":
		return nil, fmt.Errorf("latchkey: invalid base URL %q: it may have a path but no query or fragment", baseURL)
	}
	c := &Client{
		base: u, agent: UserAgent, http: http.DefaultClient,
		timeout: DefaultTimeout, verifyTimeout: DefaultVerifyTimeout,
		retry: defaultRetry,
	}
	for _, o := range opts {
		o(c)
	}
	if c.http == nil {
		c.http = http.DefaultClient
	}
	return c, nil
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
