package main

import (
	"html"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/oauth2-proxy/mockoidc"
)

// txtServer is a DNS server on 127.0.0.1 answering TXT questions from a
// table the test fills, as the DNS of a customer's domain would.
type txtServer struct {
	Addr    string
	mu      sync.Mutex
	records map[string][]string
	asked   atomic.Int32
}

func startDNS(t *testing.T) *txtServer {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	d := &txtServer{Addr: pc.LocalAddr().String(), records: map[string][]string{}}
	started := make(chan struct{})
	srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(d.serve), NotifyStartedFunc: func() { close(started) }}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.ActivateAndServe()
	}()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("the test DNS server did not start")
	}
	t.Cleanup(func() {
		_ = srv.Shutdown()
		<-done
	})
	return d
}

// set replaces the TXT records of name.
func (d *txtServer) set(name string, values ...string) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.records[strings.ToLower(name)] = values
}

func (d *txtServer) serve(w dns.ResponseWriter, r *dns.Msg) {
	d.asked.Add(1)
	m := new(dns.Msg)
	m.SetReply(r)
	m.Authoritative = true
	d.mu.Lock()
	for _, q := range r.Question {
		if q.Qtype != dns.TypeTXT {
			continue
		}
		for _, v := range d.records[strings.ToLower(strings.TrimSuffix(q.Name, "."))] {
			m.Answer = append(m.Answer, &dns.TXT{Hdr: dns.RR_Header{Name: q.Name, Rrtype: dns.TypeTXT, Class: dns.ClassINET, Ttl: 1}, Txt: []string{v}})
		}
	}
	d.mu.Unlock()
	if len(m.Answer) == 0 {
		m.Rcode = dns.RcodeNameError
	}
	_ = w.WriteMsg(m)
}

// testIdP is a real OpenID provider on 127.0.0.1. It signs in whoever is
// queued with login (its authorization endpoint asks nothing), and can
// tamper with the authorization request it receives, as a provider
// answering another request would.
type testIdP struct {
	*mockoidc.MockOIDC
	mu             sync.Mutex
	tamper         func(q url.Values)
	authorizations atomic.Int32
}

func startIdP(t *testing.T) *testIdP {
	t.Helper()
	m, err := mockoidc.NewServer(nil)
	if err != nil {
		t.Fatal(err)
	}
	idp := &testIdP{MockOIDC: m}
	err = m.AddMiddleware(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == mockoidc.AuthorizationEndpoint {
				idp.authorizations.Add(1)
				idp.mu.Lock()
				f := idp.tamper
				idp.mu.Unlock()
				if f != nil {
					q := r.URL.Query()
					f(q)
					r.URL.RawQuery = q.Encode()
				}
			}
			next.ServeHTTP(w, r)
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Start(ln, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Shutdown() })
	return idp
}

// login makes the next authorization sign in email (verified unless said).
func (idp *testIdP) login(email string, verified ...bool) {
	v := len(verified) == 0 || verified[0]
	idp.QueueUser(&mockoidc.MockUser{Subject: "sub-" + email, Email: email, EmailVerified: v, PreferredUsername: email})
}

// setTamper changes every following authorization request (nil: none).
func (idp *testIdP) setTamper(f func(q url.Values)) {
	idp.mu.Lock()
	defer idp.mu.Unlock()
	idp.tamper = f
}

// startSSOServer is startServer with the DNS server asked for domain
// verification.
func startSSOServer(t *testing.T, dnsAddr string) *testServer {
	t.Helper()
	return startServerWith(t, func(c *Config) { c.SignIn = SignInConfig{DNSResolver: dnsAddr} })
}

// setUpSSO configures idp for the workspace at wsURL with hc (an owner's
// session), claims domain, publishes its TXT record on d and verifies it.
func setUpSSO(t *testing.T, hc *http.Client, wsURL string, idp *testIdP, d *txtServer, domain string, jit bool) {
	t.Helper()
	cfg := idp.Config()
	got := send(t, hc, "PUT", wsURL+"/sso", map[string]any{"issuer": cfg.Issuer, "client_id": cfg.ClientID,
		"client_secret": cfg.ClientSecret, "domains": []string{domain}, "just_in_time": jit})
	if got.status != 200 {
		t.Fatalf("PUT sso: %d %s", got.status, got.raw)
	}
	name, value := ssoRecord(t, got, domain)
	d.set(name, "v=spf1 -all", value)
	if got := send(t, hc, "POST", wsURL+"/sso/domains/"+domain+"/verify", nil); got.status != 200 {
		t.Fatalf("verify %s: %d %s", domain, got.status, got.raw)
	}
}

// ssoRecord returns the TXT record an SSO answer asks for domain.
func ssoRecord(t *testing.T, got exchange, domain string) (name, value string) {
	t.Helper()
	ds, _ := got.body["domains"].([]any)
	for _, x := range ds {
		if m := acctObj(x); m["domain"] == domain {
			return acctStr(m, "record_name"), acctStr(m, "record_value")
		}
	}
	t.Fatalf("no record for %s in %s", domain, got.raw)
	return "", ""
}

// ssoAttempt is one login through the console's form with an empty
// password, followed through the identity provider like a browser.
type ssoAttempt struct {
	hc       *http.Client
	status   int
	body     string
	final    *url.URL
	callback *url.URL // the provider's redirect to latchkey, as sent
	state    string   // the state cookie the browser held
}

func ssoLogin(t *testing.T, base, email string) *ssoAttempt {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	a := &ssoAttempt{}
	a.hc = &http.Client{Jar: jar, Timeout: 15 * time.Second, CheckRedirect: func(r *http.Request, via []*http.Request) error {
		if r.URL.Path == "/login/sso/callback" {
			a.callback = r.URL
			for _, c := range jar.Cookies(r.URL) {
				if c.Name == "latchkey_sso_state" {
					a.state = c.Value
				}
			}
		}
		if len(via) > 10 {
			return http.ErrUseLastResponse
		}
		return nil
	}}
	resp, err := a.hc.PostForm(base+"/login", url.Values{"email": {email}, "password": {""}})
	if err != nil {
		t.Fatalf("SSO login of %s: %v", email, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	// The answer moves on to the provider by itself (a browser follows
	// its refresh); this client follows its link.
	if m := continueLink.FindStringSubmatch(string(b)); m != nil {
		if resp, err = a.hc.Get(html.UnescapeString(m[1])); err != nil {
			t.Fatalf("SSO login of %s at the provider: %v", email, err)
		}
		b, _ = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	a.status, a.body, a.final = resp.StatusCode, string(b), resp.Request.URL
	return a
}

var continueLink = regexp.MustCompile(`<a id="sso-continue" href="([^"]+)"`)

// ssoEvents lists the reasons of the sso.refused events of a workspace.
func refusalReasons(t *testing.T, hc *http.Client, wsURL string) []string {
	t.Helper()
	var out []string
	for _, e := range acctEvents(t, hc, wsURL, "sso.refused") {
		if d, ok := e["data"].(map[string]any); ok {
			r, _ := d["reason"].(string)
			out = append(out, r)
		}
	}
	return out
}
