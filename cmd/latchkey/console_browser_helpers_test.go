package main

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromiumPath is Debian's chromium, which .ci/run installs.
const chromiumPath = "/usr/bin/chromium"

// consoleBrowser drives a headless Chromium against a test server.
type consoleBrowser struct {
	t   *testing.T
	ctx context.Context
	srv *testServer
}

// newConsoleBrowser starts Chromium for t. Without Chromium the test is skipped,
// unless LATCHKEY_REQUIRE_ALL=1 (CI) makes that a failure. On failure the
// page is saved as failure.png under the test's temporary directory (and
// under $LATCHKEY_SCREENSHOT_DIR when set, which outlives the test).
func newConsoleBrowser(t *testing.T, srv *testServer) *consoleBrowser {
	t.Helper()
	path := chromiumPath
	if p := os.Getenv("LATCHKEY_CHROMIUM"); p != "" {
		path = p
	}
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("LATCHKEY_REQUIRE_ALL") == "1" {
			t.Fatalf("browser tests need Chromium at %s (apt-get install chromium): %v", path, err)
		}
		t.Skipf("skipping browser test: no Chromium at %s (apt-get install chromium; LATCHKEY_REQUIRE_ALL=1 makes this fail)", path)
	}
	shots := t.TempDir()
	// Chromium may still write to its profile while it exits, so the
	// profile is not a t.TempDir (whose removal would then fail the test).
	profile, err := os.MkdirTemp("", "latchkey-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path), chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(profile), chromedp.WindowSize(1280, 900),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(func() {
		cancelBrowser()
		cancelAlloc()
		_ = os.RemoveAll(profile)
	})
	// Start the browser on a context without a deadline (a deadline on the
	// first Run would bound the browser's life), then bound each test.
	if err := chromedp.Do(bctx); err != nil {
		t.Fatalf("starting Chromium: %v", err)
	}
	ctx, cancel := context.WithTimeout(bctx, 90*time.Second)
	t.Cleanup(cancel)
	b := &consoleBrowser{t: t, ctx: ctx, srv: srv}
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		sctx, cancel := context.WithTimeout(bctx, 10*time.Second)
		defer cancel()
		png, err := chromedp.Run(sctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Logf("no screenshot: %v", err)
			return
		}
		dirs := []string{shots}
		if d := os.Getenv("LATCHKEY_SCREENSHOT_DIR"); d != "" {
			dirs = append(dirs, d)
		}
		for _, d := range dirs {
			name := filepath.Join(d, strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())+"-failure.png")
			if err := os.WriteFile(name, png, 0o644); err == nil {
				t.Logf("screenshot of the failure: %s", name)
			}
		}
	})
	return b
}

// do runs steps, failing the test (with a screenshot) on error.
func (b *consoleBrowser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// text returns the text content of the element sel.
func (b *consoleBrowser) text(sel string) string {
	b.t.Helper()
	s, err := chromedp.Run(b.ctx, chromedp.TextContent(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatalf("reading %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

// eval evaluates a boolean JavaScript expression.
func (b *consoleBrowser) eval(expr string) bool {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// waitFor waits until the JavaScript expression is true.
func (b *consoleBrowser) waitFor(what, expr string) {
	b.t.Helper()
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingTimeout(15*time.Second))); err != nil {
		b.t.Fatalf("waiting until %s (%s): %v", what, expr, err)
	}
}

// tick checks the checkbox id through its label, and sees that it took:
// a click that lands while the page is still moving is lost, and the
// wizard would then stop at a later step for want of a scope. It clicks
// again only while the box is still unticked, so it never unticks it.
func (b *consoleBrowser) tick(id string) {
	b.t.Helper()
	checked := `document.getElementById("` + id + `").checked`
	for range 3 {
		b.do("ticking "+id, chromedp.WaitVisible(chromedp.CSS("#"+id)), chromedp.Click(chromedp.CSS(`label[for="`+id+`"]`)))
		if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](checked, chromedp.WithPollingTimeout(2*time.Second))); err == nil {
			return
		}
		if b.eval(checked) {
			return
		}
	}
	b.t.Fatalf("%s stays unticked after three clicks on its label", id)
}

// generate presses the wizard's "Generate API key" and waits until the
// page has gone (the secret's page follows). The button is pressed as a
// script would, not by a mouse click at its place on the screen: on a
// loaded machine the page could still move under the click, and the key
// was then never created.
func (b *consoleBrowser) generate() {
	b.t.Helper()
	b.do("generating", chromedp.WaitVisible(chromedp.CSS(`form.wizard button.primary`)))
	if !b.eval(`(document.querySelector("form.wizard button.primary").click(), true)`) {
		b.t.Fatal("pressing Generate API key")
	}
	b.do("leaving the wizard", chromedp.WaitNotPresent(chromedp.CSS(`form.wizard button.primary`)))
}

// login logs in through the console's login form and waits for the page
// after it.
func (b *consoleBrowser) login(email, password string) {
	b.t.Helper()
	b.do("logging in as "+email,
		chromedp.Navigate(b.srv.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS("#email"), email),
		chromedp.SendKeys(chromedp.CSS("#password"), password),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("nav.sidebar")),
	)
}

// readSecret reveals the one-time secret on step 3 and returns it.
func (b *consoleBrowser) readSecret() string {
	b.t.Helper()
	b.do("revealing the secret",
		chromedp.WaitVisible(chromedp.CSS("#stored")),
		chromedp.Click(chromedp.CSS("details.reveal > summary")),
		chromedp.WaitVisible(chromedp.CSS("#secret")),
	)
	secret := b.text("#secret")
	if !strings.HasPrefix(secret, "lk_") {
		b.t.Fatalf("the revealed secret is %q, want a latchkey token", secret)
	}
	return secret
}

// confirmStoredAndFinish checks that Done is disabled until "I have
// stored the key in a safe place" is ticked, then ticks it and clicks Done.
func (b *consoleBrowser) confirmStoredAndFinish(next string) {
	b.t.Helper()
	b.waitFor("Done is disabled before the checkbox is ticked", `document.querySelector("#done") && document.querySelector("#done").disabled`)
	if b.eval(`document.querySelector("#stored").checked`) {
		b.t.Fatal("the stored-key checkbox starts ticked")
	}
	b.do("ticking the stored-key checkbox", chromedp.Click(chromedp.CSS("#stored")))
	// On a loaded machine the click may land before the page's script
	// listens; a person clicks again, and so does the test, once.
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[chromedp.Void](`document.querySelector("#stored").checked`,
		chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		b.do("ticking the stored-key checkbox again", chromedp.Click(chromedp.CSS("#stored")))
	}
	// The click's change event may land a frame later on a loaded machine.
	b.waitFor("Done is enabled once the checkbox is ticked", `document.querySelector("#stored").checked && !document.querySelector("#done").disabled`)
	b.do("clicking Done", chromedp.Click(chromedp.CSS("#done")), chromedp.WaitVisible(chromedp.CSS(next)))
}

// secretCheck is what POST /v1/keys/verify said about a secret.
type secretCheck struct {
	Status int
	Valid  bool `json:"valid"`
	Error  struct {
		Code string `json:"code"`
	} `json:"error"`
}

// verifySecret asks the server's verify endpoint about secret, as a backend would.
func (s *testServer) verifySecret(t *testing.T, secret string, scopes ...string) secretCheck {
	t.Helper()
	body, _ := json.Marshal(map[string]any{"key": secret, "scopes": scopes})
	resp, err := http.Post(s.URL+"/v1/keys/verify", "application/json", strings.NewReader(string(body)))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var a secretCheck
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		t.Fatalf("decoding the verify answer: %v", err)
	}
	a.Status = resp.StatusCode
	return a
}
