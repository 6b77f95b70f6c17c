// Package apitest keeps latchkey's OpenAPI document true: it gives API
// tests an *http.Client whose transport checks every request and every
// answer against the document served at /openapi.json, and fails the test
// on any difference. It also records which documented answers the tests
// exercised, so a suite can list the ones it never saw.
//
// What kin-openapi v0.152.0 does with an OpenAPI 3.1 document (read in its
// source and checked by this package's tests):
//   - The loader parses 3.1 (type arrays such as ["string", "null"],
//     const, examples, propertyNames, jsonSchemaDialect), and
//     doc.Validate switches itself to 3.1 rules from the "openapi" field.
//   - openapi3filter.ValidateRequest and ValidateResponse add
//     openapi3.EnableJSONSchema2020 on their own when
//     route.Spec.IsOpenAPI31OrLater(), so no option is needed here. With it
//     a schema is compiled by santhosh-tekuri/jsonschema/v6 (draft
//     2020-12), except that a schema holding a "#/components/schemas" $ref
//     and no 2020-only keyword (const, prefixItems, propertyNames, if/then,
//     unevaluated*, $defs, …) is still checked by kin-openapi's own
//     validator. That validator understands type arrays and "null" too
//     (Types.Permits / IncludesNull), so nullable fields are checked either
//     way; apitest_test.go proves both paths reject a null where the
//     document forbids one.
//   - Schema string formats date and date-time are asserted; formats it
//     does not know (uri, password) are annotations only.
//   - DisableSchemaErrorDetails cannot be combined with 3.1 validation,
//     so errors keep their details (and are verbose).
package apitest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"

	"github.com/latchkey/latchkey/internal/api"
)

// Load parses and validates the API's OpenAPI document as embedded in the
// binary.
func Load(ctx context.Context) (*openapi3.T, error) { return Parse(ctx, api.OpenAPI()) }

// Parse parses and validates an OpenAPI document. It refuses external
// references: latchkey's document is self-contained.
func Parse(ctx context.Context, data []byte) (*openapi3.T, error) {
	loader := openapi3.NewLoader()
	loader.IsExternalRefsAllowed = false
	loader.Context = ctx
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return nil, fmt.Errorf("openapi.json does not load: %w", err)
	}
	if err := doc.Validate(ctx); err != nil {
		return nil, fmt.Errorf("openapi.json is not a valid OpenAPI document: %w", err)
	}
	return doc, nil
}

// Validator checks HTTP exchanges against the document and reports every
// difference to its test.
type Validator struct {
	doc    *openapi3.T
	router routers.Router
	t      testing.TB
	cov    *coverage
}

// New loads the document and returns a Validator that reports to t. A
// document that does not load fails t at once.
func New(t testing.TB) *Validator {
	t.Helper()
	doc, err := Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		t.Fatalf("openapi.json: building the router: %v", err)
	}
	return &Validator{doc: doc, router: router, t: t, cov: &coverage{seen: map[Exercise]int{}}}
}

// For returns a Validator that reports to t and shares v's document and
// coverage: a suite keeps one Validator for its coverage report and hands
// each subtest its own view.
func (v *Validator) For(t testing.TB) *Validator {
	return &Validator{doc: v.doc, router: v.router, t: t, cov: v.cov}
}

// Doc returns the parsed document.
func (v *Validator) Doc() *openapi3.T { return v.doc }

// Client returns a copy of base (http.DefaultClient when nil) whose
// transport validates every exchange. Its cookie jar, redirect policy and
// timeout are base's.
func (v *Validator) Client(base *http.Client) *http.Client {
	if base == nil {
		base = http.DefaultClient
	}
	c := *base
	c.Transport = v.Transport(base.Transport)
	return &c
}

// Transport wraps base (http.DefaultTransport when nil) in a RoundTripper
// that validates every exchange. The caller still gets the whole answer:
// the body is read for validation and handed back unread.
func (v *Validator) Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return &transport{v: v, base: base}
}

type skipKey struct{}

// WithoutValidation marks a request's context so that its exchange is not
// validated nor counted: for tests that deliberately speak something else
// than the API (a raw protocol error, a method the document does not have).
func WithoutValidation(ctx context.Context) context.Context {
	return context.WithValue(ctx, skipKey{}, true)
}

type transport struct {
	v    *Validator
	base http.RoundTripper
}

func (rt *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if skip, _ := req.Context().Value(skipKey{}).(bool); skip {
		return rt.base.RoundTrip(req)
	}
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		req.Body.Close()
		if err != nil {
			return nil, err
		}
		reqBody = b
		// A RoundTripper must not change the caller's request: send a clone.
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		req.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(reqBody)), nil }
	}
	resp, err := rt.base.RoundTrip(req)
	if err != nil {
		return resp, err
	}
	respBody, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	if err != nil {
		return resp, err
	}
	if err := rt.v.Check(req, reqBody, resp, respBody); err != nil {
		rt.v.t.Helper()
		rt.v.t.Errorf("openapi: %s %s → %d: %v", req.Method, req.URL.Path, resp.StatusCode, err)
	}
	return resp, nil
}

// Check validates one exchange and records it for coverage; the transport
// calls it, and tests that drive a handler directly may too. The rules:
//   - The route must be in the document, unless the server answered 404 or
//     405 (an unknown endpoint), whose JSON body must then be an Error.
//   - The request is checked against its operation: security, parameters,
//     body. A request without any credential the document accepts must be
//     answered 401; any other invalid request must be answered with a 4xx
//     (the server refused what the document refuses). A 1xx-3xx answer to
//     a request the document calls invalid is a drift.
//   - The answer must be documented for its status, with its required
//     headers and a body of the documented media type and schema.
func (v *Validator) Check(req *http.Request, reqBody []byte, resp *http.Response, respBody []byte) error {
	ctx := context.Background()
	vreq := req.Clone(ctx)
	vreq.Body = io.NopCloser(bytes.NewReader(reqBody))
	if reqBody == nil {
		vreq.Body = http.NoBody
	}
	status := resp.StatusCode

	route, params, err := v.router.FindRoute(vreq)
	if err != nil {
		if status == http.StatusNotFound || status == http.StatusMethodNotAllowed {
			return v.checkUnrouted(resp, respBody)
		}
		return fmt.Errorf("the document has no operation %s %s (%v), yet the server answered %d", req.Method, req.URL.Path, err, status)
	}
	v.cov.add(Exercise{Method: route.Method, Path: route.Path, Status: status})

	opts := &openapi3filter.Options{
		IncludeResponseStatus: true,
		MultiError:            true,
		SkipSettingDefaults:   true,
		AuthenticationFunc:    presented,
	}
	in := &openapi3filter.RequestValidationInput{Request: vreq, PathParams: params, Route: route, Options: opts}
	var errs []error
	if reqErr := openapi3filter.ValidateRequest(ctx, in); reqErr != nil {
		var secErr *openapi3filter.SecurityRequirementsError
		switch {
		case errors.As(reqErr, &secErr) && status != http.StatusUnauthorized:
			errs = append(errs, fmt.Errorf("the request presents no credential the operation accepts, yet the answer is %d, not 401", status))
		case status < 400:
			errs = append(errs, fmt.Errorf("the server accepted a request the document refuses: %w", reqErr))
		}
	}
	in.Request.Body = http.NoBody
	respIn := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: in,
		Status:                 status,
		Header:                 resp.Header,
		Body:                   io.NopCloser(bytes.NewReader(respBody)),
		Options:                opts,
	}
	if err := openapi3filter.ValidateResponse(ctx, respIn); err != nil {
		errs = append(errs, fmt.Errorf("answer: %w; body: %s", err, clip(respBody)))
	}
	return errors.Join(errs...)
}

// checkUnrouted checks the answer to a request for an endpoint the document
// does not have: an API 404 must be in the error shape.
func (v *Validator) checkUnrouted(resp *http.Response, body []byte) error {
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt != "application/json" {
		return nil // net/http's own plain-text 404 or 405
	}
	var value any
	if err := json.Unmarshal(body, &value); err != nil {
		return fmt.Errorf("unknown endpoint answered invalid JSON: %v", err)
	}
	schema := v.doc.Components.Schemas["Error"].Value
	if err := schema.VisitJSON(value, openapi3.EnableJSONSchema2020(), openapi3.MultiErrors()); err != nil {
		return fmt.Errorf("unknown endpoint answered outside the Error shape: %w; body: %s", err, clip(body))
	}
	return nil
}

// presented accepts any credential the request presents for the scheme:
// whether it is good is the server's decision, and the answer's status
// shows it. It refuses a scheme whose credential is absent, so that an
// operation whose requirements are all absent is told apart.
func presented(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	r, s := in.RequestValidationInput.Request, in.SecurityScheme
	var ok bool
	switch {
	case s.Type == "apiKey" && s.In == "header":
		ok = r.Header.Get(s.Name) != ""
	case s.Type == "apiKey" && s.In == "cookie":
		_, err := r.Cookie(s.Name)
		ok = err == nil
	case s.Type == "apiKey" && s.In == "query":
		ok = r.URL.Query().Get(s.Name) != ""
	case s.Type == "http":
		scheme, _, _ := strings.Cut(r.Header.Get("Authorization"), " ")
		ok = strings.EqualFold(scheme, s.Scheme)
	}
	if !ok {
		return fmt.Errorf("no %s credential", in.SecuritySchemeName)
	}
	return nil
}

func clip(b []byte) string {
	const max = 600
	if len(b) > max {
		return string(b[:max]) + "…"
	}
	return string(b)
}

// Exercise is one documented answer: an operation and a status.
type Exercise struct {
	Method string // GET, POST, …
	Path   string // the document's path template, such as /v1/workspaces/{ws}/keys
	Status int
}

// String writes e as "GET /v1/me 200".
func (e Exercise) String() string { return e.Operation() + " " + strconv.Itoa(e.Status) }

// Operation writes e's operation as "GET /v1/me".
func (e Exercise) Operation() string { return e.Method + " " + e.Path }

type coverage struct {
	mu   sync.Mutex
	seen map[Exercise]int
}

func (c *coverage) add(e Exercise) {
	c.mu.Lock()
	c.seen[e]++
	c.mu.Unlock()
}

// Covered returns every operation and status the validated exchanges
// produced, sorted, whether documented or not (an undocumented one has
// also failed its test).
func (v *Validator) Covered() []Exercise {
	v.cov.mu.Lock()
	out := make([]Exercise, 0, len(v.cov.seen))
	for e := range v.cov.seen {
		out = append(out, e)
	}
	v.cov.mu.Unlock()
	sortExercises(out)
	return out
}

// Documented returns every operation and status the document describes, sorted.
func (v *Validator) Documented() []Exercise {
	var out []Exercise
	for path, item := range v.doc.Paths.Map() {
		for method, op := range item.Operations() {
			for code := range op.Responses.Map() {
				n, err := strconv.Atoi(code)
				if err != nil {
					continue // "default" or a range such as "5XX"
				}
				out = append(out, Exercise{Method: method, Path: path, Status: n})
			}
		}
	}
	sortExercises(out)
	return out
}

// Uncovered returns the documented answers no validated exchange produced.
func (v *Validator) Uncovered() []Exercise {
	v.cov.mu.Lock()
	defer v.cov.mu.Unlock()
	var out []Exercise
	for _, e := range v.Documented() {
		if v.cov.seen[e] == 0 {
			out = append(out, e)
		}
	}
	return out
}

// UncoveredOperations returns the documented operations ("GET /v1/me")
// that no validated exchange reached at all.
func (v *Validator) UncoveredOperations() []string {
	v.cov.mu.Lock()
	reached := map[string]bool{}
	for e := range v.cov.seen {
		reached[e.Operation()] = true
	}
	v.cov.mu.Unlock()
	var out []string
	for _, e := range v.Documented() {
		if op := e.Operation(); !reached[op] && !slices.Contains(out, op) {
			out = append(out, op)
		}
	}
	return out
}

// ReportCoverage logs the documented answers the suite never produced and,
// with strict, fails t for every operation it never called (except those
// in ignore, such as "GET /metrics" in a suite that does not enable
// metrics). Call it at the end of an end-to-end suite, after every test
// that used v (or a view of it from For) has finished.
func (v *Validator) ReportCoverage(t testing.TB, strict bool, ignore ...string) {
	t.Helper()
	if un := v.Uncovered(); len(un) > 0 {
		lines := make([]string, len(un))
		for i, e := range un {
			lines[i] = "  " + e.String()
		}
		t.Logf("openapi: %d of %d documented answers never exercised:\n%s", len(un), len(v.Documented()), strings.Join(lines, "\n"))
	}
	for _, op := range v.UncoveredOperations() {
		if slices.Contains(ignore, op) {
			continue
		}
		if strict {
			t.Errorf("openapi: operation %s was never exercised", op)
		} else {
			t.Logf("openapi: operation %s was never exercised", op)
		}
	}
}

func sortExercises(es []Exercise) {
	slices.SortFunc(es, func(a, b Exercise) int {
		if c := strings.Compare(a.Path, b.Path); c != 0 {
			return c
		}
		if c := strings.Compare(a.Method, b.Method); c != 0 {
			return c
		}
		return a.Status - b.Status
	})
}
