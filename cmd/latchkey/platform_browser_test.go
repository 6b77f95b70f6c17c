package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/client"
)

// TestPortalInABrowser walks the whole embedding in Chromium: the
// product's settings page (its backend calls client.CreatePortalSession)
// sends the signed-in person to the portal URL, the console opens on the
// workspace's keys under the product's name, the person (an admin, as the
// product asserts) creates a key through the wizard, the key verifies,
// and "Back to Acme Cloud" returns to the product.
func TestPortalInABrowser(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var lk *client.Client
	var ws string
	product := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		c, workspace := lk, ws
		mu.Unlock()
		switch r.URL.Path {
		case "/settings/api":
			// The product's backend: its user u-1 is signed in to the
			// product, and is an admin of their company there.
			s, err := c.CreatePortalSession(r.Context(), workspace,
				client.PortalUser{ExternalID: "u-1", Email: "erin@globex.example", Name: "Erin", Role: "admin"},
				"http://"+r.Host+"/back")
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			http.Redirect(w, r, s.URL, http.StatusFound)
		case "/back":
			w.Header().Set("Content-Type", "text/html")
			_, _ = w.Write([]byte(`<!doctype html><title>Acme Cloud</title><h1 id="product">Acme Cloud settings</h1>`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(product.Close)
	w := newPlatformWorld(t, func(c *Config) { c.PortalOrigins = append(c.PortalOrigins, product.URL) })
	mu.Lock()
	lk = newGoClient(t, w.s.URL, client.WithToken(w.keys["full"]))
	mu.Unlock()
	p, created, err := lk.ProvisionWorkspace(t.Context(), "Globex", "cust-1")
	if err != nil || !created {
		t.Fatalf("ProvisionWorkspace: %v, %v", created, err)
	}
	if again, created, err := lk.ProvisionWorkspace(t.Context(), "Globex", "cust-1"); err != nil || created || again.ID != p.ID {
		t.Fatalf("ProvisionWorkspace again: %+v %v %v, want the same workspace", again, created, err)
	}
	mu.Lock()
	ws = p.ID
	mu.Unlock()

	b := newConsoleBrowser(t, w.s)
	b.do("opening the product's API settings",
		chromedp.Navigate(product.URL+"/settings/api"),
		chromedp.WaitVisible(chromedp.CSS("a.back-to-product")),
	)
	if got := b.text("a.back-to-product"); got != "Back to Acme Cloud" {
		t.Fatalf("the back link reads %q", got)
	}
	if !b.eval(`location.pathname === "/w/` + p.ID + `/keys" && !location.search`) {
		t.Fatal("the portal did not land on the workspace's keys, or kept the token in the address")
	}
	if brand := b.text("a.brand"); !strings.Contains(brand, "Acme Cloud") {
		t.Fatalf("the console's header reads %q, want the product's name", brand)
	}
	b.do("creating a key through the wizard",
		chromedp.Click(chromedp.CSS(`a[href$="/keys/new"]`)),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Globex CRM sync"),
		chromedp.Click(chromedp.CSS(`form.wizard button.primary`)),
	)
	b.tick("perm-items-read")
	b.generate()
	secret := b.readSecret()
	if got := w.s.verifySecret(t, secret, "items:read"); got.Status != 200 || !got.Valid {
		t.Fatalf("the portal user's key: verify answered %d %+v", got.Status, got)
	}
	b.confirmStoredAndFinish("table.keys")
	b.do("going back to the product",
		chromedp.Click(chromedp.CSS("a.back-to-product")),
		chromedp.WaitVisible(chromedp.CSS("#product")),
	)
	if !b.eval(`location.href === "` + product.URL + `/back"`) {
		t.Fatal("Back to Acme Cloud did not return to the product's return_url")
	}
	// The person's browser session is bound to the one workspace.
	b.do("trying the operator's workspace", chromedp.Navigate(w.s.URL+"/w/"+w.s.WorkspaceID+"/keys"))
	if b.eval(`!!document.querySelector("nav.sidebar")`) {
		t.Fatal("the portal session opened another workspace")
	}
}
