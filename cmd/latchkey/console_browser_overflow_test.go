package main

import (
	"context"
	"fmt"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/manage/managetest"
)

// TestConsoleBrowserNoHorizontalOverflow measures, at a laptop's 1280 px
// and a phone's 390 px, that the keys list, a key page, members, activity
// and settings fit their viewport with a long key name, every scope of the
// type and long emails: document.documentElement.scrollWidth is no wider
// than clientWidth, and no table scrolls inside its box. The key page's ⋮
// menu stays beside the long name.
func TestConsoleBrowserNoHorizontalOverflow(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	owner, err := s.Main.service.Principal(ctx, manage.Caller{User: &latchkey.User{ID: s.OwnerID}}, s.WorkspaceID)
	if err != nil {
		t.Fatal(err)
	}
	typ, ok := latchkey.DefaultCatalog().Type(latchkey.TypePublicAPI)
	if !ok {
		t.Fatal("no public_api type in the default catalog")
	}
	var scopes []string
	for _, sc := range typ.Scopes {
		scopes = append(scopes, sc.Name)
	}
	name := "Quarterly reconciliation exporter for the accounting department's nightly ledger synchronisation"
	k, _, err := s.Main.service.CreateKey(ctx, owner, s.WorkspaceID, manage.CreateKey{Name: name, Owner: latchkey.OwnerWorkspace, Scopes: scopes})
	if err != nil {
		t.Fatal(err)
	}
	long := "maximiliana.vanderbeek-oppenheimer.operations@subsidiary.internal-accounting.example.com"
	managetest.Join(t, s.Main.service, owner, s.WorkspaceID, manage.AddMember{Email: long, Role: latchkey.RoleAdmin}, "Quartz-Meadow-Falcon-17")
	if _, _, err := s.Main.service.AddMember(ctx, owner, s.WorkspaceID, manage.AddMember{Email: "invited." + long, Role: latchkey.RoleMember}); err != nil {
		t.Fatal(err)
	}

	b := newConsoleBrowser(t, s)
	b.login(s.OwnerEmail, s.OwnerPassword)
	base := s.URL + "/w/" + s.WorkspaceID
	pages := map[string]string{
		"keys list": base + "/keys", "key page": base + "/keys/" + k.ID, "members": base + "/members",
		"activity": base + "/activity", "settings": base + "/settings",
	}
	for _, width := range []int64{1280, 390} {
		for _, what := range []string{"keys list", "key page", "members", "activity", "settings"} {
			b.do(fmt.Sprintf("opening %s at %d px", what, width),
				chromedp.EmulateViewport(width, 900),
				chromedp.Navigate(pages[what]),
				chromedp.WaitVisible(chromedp.CSS("main")),
			)
			sizes, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, document.documentElement.clientWidth]`))
			if err != nil {
				t.Fatal(err)
			}
			// A table scrolling inside its box hides columns as surely.
			if inner := b.eval(`[...document.querySelectorAll('.table-wrap')].every(e => e.scrollWidth <= e.clientWidth)`); !inner {
				t.Errorf("%s at %d px: a table is wider than its box", what, width)
			}
			// The key page's ⋮ menu stays beside its long title, not under it.
			if what == "key page" && !b.eval(`document.querySelector("details.actions-menu").getBoundingClientRect().top < document.querySelector(".page-head h1").getBoundingClientRect().bottom`) {
				t.Errorf("key page at %d px: the ⋮ menu dropped below the long title", width)
			}
			if width == 390 {
				// A compact navigation: one row (scrolling sideways), the
				// current page in sight, and the workspace still named.
				if !b.eval(`(() => { const items = [...document.querySelectorAll('.sidebar li')]; return items.every(li => li.offsetTop === items[0].offsetTop) })()`) {
					t.Errorf("%s at 390 px: the navigation wraps onto several rows", what)
				}
				if !b.eval(`(() => { const c = document.querySelector('.sidebar [aria-current=page]'); if (!c) return true; const r = c.getBoundingClientRect(); return r.left >= 0 && r.right <= document.documentElement.clientWidth })()`) {
					t.Errorf("%s at 390 px: the current page's navigation item is scrolled out of sight", what)
				}
				if !b.eval(`(() => { const n = document.querySelector('.ws-name'); return !!n && n.getBoundingClientRect().width > 0 })()`) {
					t.Errorf("%s at 390 px: the workspace's name is hidden", what)
				}
			}
			if sizes[0] > sizes[1] {
				wide, _ := chromedp.Run(b.ctx, chromedp.Evaluate[[]string](`(() => {
					const w = document.documentElement.clientWidth, out = [];
					for (const el of document.querySelectorAll('body *')) {
						const r = el.getBoundingClientRect();
						if (r.right > w + 0.5 && out.length < 8) out.push(el.tagName.toLowerCase() + (el.className ? '.' + String(el.className).split(' ').join('.') : '') + ' right=' + Math.round(r.right));
					}
					return out;
				})()`))
				t.Errorf("%s at %d px: scrollWidth %d > clientWidth %d; too wide: %v", what, width, sizes[0], sizes[1], wide)
			}
		}
	}
}
