package storetest

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

const notice = 30 * latchkey.Day

func testKeyList(t *testing.T, open func(t *testing.T) latchkey.Store) {
	f := newFixture(t, open)
	a, ownerA := f.workspace("A", "a@example.com")
	b, _ := f.workspace("B", "b@example.com")

	// Made long ago, so that no notice window holds their whole life.
	expires := func(d time.Duration) func(*latchkey.Key) {
		return func(k *latchkey.Key) { k.ExpiresAt, k.CreatedAt = ptr(now.Add(d)), now.Add(-60*latchkey.Day) }
	}
	// lived makes a key created before now that expires after it.
	lived := func(before, after time.Duration) func(*latchkey.Key) {
		return func(k *latchkey.Key) { k.CreatedAt, k.ExpiresAt = now.Add(-before), ptr(now.Add(after)) }
	}
	revoked := func(k *latchkey.Key) { k.RevokedAt, k.RevokedBy = ptr(now.Add(-time.Hour)), "usr_x" }
	disabled := func(k *latchkey.Key) { k.DisabledAt, k.DisabledBy = ptr(now.Add(-time.Hour)), "usr_x" }
	// In creation order; Keys answers newest first.
	fixtures := []struct {
		name string
		mods []func(*latchkey.Key)
	}{
		{"Active Prod", nil},
		{"Expiring", []func(*latchkey.Key){expires(10 * latchkey.Day)}},
		{"Expiring boundary", []func(*latchkey.Key){expires(notice)}},
		{"Just active", []func(*latchkey.Key){expires(notice + time.Microsecond)}},
		{"Expired", []func(*latchkey.Key){expires(-time.Hour)}},
		{"Expired boundary", []func(*latchkey.Key){expires(0)}},
		{"Revoked", []func(*latchkey.Key){revoked}},
		{"Revoked and expired", []func(*latchkey.Key){revoked, expires(-latchkey.Day)}},
		{"Never", []func(*latchkey.Key){func(k *latchkey.Key) { k.ExpiresAt = nil }}},
		{"Demo scim", []func(*latchkey.Key){func(k *latchkey.Key) { k.Type, k.Environment = "scim", latchkey.Demo }}},
		{"Personal", []func(*latchkey.Key){func(k *latchkey.Key) { k.Owner = ownerA.ID }}},
		{"100% off_sale", nil},
		{"100x offXsale", nil},
		{"ZAPIER Integration", nil},
		{"zapier", nil},
		{"Ärger Schlüssel", nil},
		{"Disabled", []func(*latchkey.Key){disabled}},
		{"Disabled and expired", []func(*latchkey.Key){disabled, expires(-time.Hour)}},
		{"Disabled and revoked", []func(*latchkey.Key){disabled, revoked}},
		{"Customer 42", []func(*latchkey.Key){func(k *latchkey.Key) { k.ExternalID = "cus_42" }}},
		// Created inside the 30-day window: its expiry is no news.
		{"Short-lived", []func(*latchkey.Key){lived(latchkey.Day, 20*latchkey.Day)}},
		// Inside the 30-day window since birth, but not the 7-day one.
		{"Week left", []func(*latchkey.Key){lived(5*latchkey.Day, 3*latchkey.Day)}},
	}
	var all []string // newest first
	for _, fx := range fixtures {
		f.key(a.ID, fx.name, fx.mods...)
		// The same names in another workspace must never show up in A's lists.
		f.key(b.ID, fx.name, fx.mods...)
		all = append([]string{fx.name}, all...)
	}
	only := func(names ...string) []string {
		return slices.DeleteFunc(slices.Clone(all), func(n string) bool { return !slices.Contains(names, n) })
	}
	except := func(names ...string) []string {
		return slices.DeleteFunc(slices.Clone(all), func(n string) bool { return slices.Contains(names, n) })
	}
	filter := func(mod func(*latchkey.KeyFilter)) latchkey.KeyFilter {
		kf := latchkey.KeyFilter{WorkspaceID: a.ID, Now: now, Windows: []latchkey.Duration{latchkey.Duration(notice)}}
		mod(&kf)
		return kf
	}
	notActive := []string{"Expiring", "Expiring boundary", "Expired", "Expired boundary", "Revoked", "Revoked and expired",
		"Disabled", "Disabled and expired", "Disabled and revoked"}

	tests := []struct {
		name string
		f    latchkey.KeyFilter
		want []string
	}{
		{"all", filter(func(*latchkey.KeyFilter) {}), all},
		{"active", filter(func(kf *latchkey.KeyFilter) { kf.Status = latchkey.StatusActive }), except(notActive...)},
		{"expiring", filter(func(kf *latchkey.KeyFilter) { kf.Status = latchkey.StatusExpiring }), only("Expiring", "Expiring boundary")},
		{"expiring without notice", filter(func(kf *latchkey.KeyFilter) { kf.Status, kf.Windows = latchkey.StatusExpiring, nil }), nil},
		{"expiring with a second window", filter(func(kf *latchkey.KeyFilter) {
			kf.Status, kf.Windows = latchkey.StatusExpiring, []latchkey.Duration{latchkey.Duration(notice), latchkey.Duration(7 * latchkey.Day)}
		}), only("Expiring", "Expiring boundary", "Week left")},
		{"active with a second window", filter(func(kf *latchkey.KeyFilter) {
			kf.Status, kf.Windows = latchkey.StatusActive, []latchkey.Duration{latchkey.Duration(7 * latchkey.Day), latchkey.Duration(notice)}
		}), except(append(notActive, "Week left")...)},
		{"active without notice", filter(func(kf *latchkey.KeyFilter) { kf.Status, kf.Windows = latchkey.StatusActive, nil }),
			except("Expired", "Expired boundary", "Revoked", "Revoked and expired", "Disabled", "Disabled and expired", "Disabled and revoked")},
		{"expired", filter(func(kf *latchkey.KeyFilter) { kf.Status = latchkey.StatusExpired }), only("Expired", "Expired boundary", "Disabled and expired")},
		{"revoked", filter(func(kf *latchkey.KeyFilter) { kf.Status = latchkey.StatusRevoked }), only("Revoked", "Revoked and expired", "Disabled and revoked")},
		{"disabled", filter(func(kf *latchkey.KeyFilter) { kf.Status = latchkey.StatusDisabled }), only("Disabled")},
		{"disabled a year later", filter(func(kf *latchkey.KeyFilter) { kf.Status, kf.Now = latchkey.StatusDisabled, now.Add(latchkey.Year) }), nil},
		{"external id", filter(func(kf *latchkey.KeyFilter) { kf.ExternalID = "cus_42" }), only("Customer 42")},
		{"external id is exact", filter(func(kf *latchkey.KeyFilter) { kf.ExternalID = "cus_4" }), nil},
		{"expired a year later", filter(func(kf *latchkey.KeyFilter) { kf.Status, kf.Now = latchkey.StatusExpired, now.Add(latchkey.Year) }),
			except("Never", "Revoked", "Revoked and expired", "Disabled and revoked")},
		{"type", filter(func(kf *latchkey.KeyFilter) { kf.Type = "scim" }), only("Demo scim")},
		{"environment", filter(func(kf *latchkey.KeyFilter) { kf.Environment = latchkey.Demo }), only("Demo scim")},
		{"owner user", filter(func(kf *latchkey.KeyFilter) { kf.Owner = ownerA.ID }), only("Personal")},
		{"owner workspace", filter(func(kf *latchkey.KeyFilter) { kf.Owner = latchkey.OwnerWorkspace }), except("Personal")},
		{"query any case", filter(func(kf *latchkey.KeyFilter) { kf.Query = "zaPIer" }), only("ZAPIER Integration", "zapier")},
		{"query substring", filter(func(kf *latchkey.KeyFilter) { kf.Query = "pir" }), only("Expiring", "Expiring boundary", "Expired", "Expired boundary", "Revoked and expired", "Disabled and expired")},
		{"query percent is literal", filter(func(kf *latchkey.KeyFilter) { kf.Query = "100%" }), only("100% off_sale")},
		{"query underscore is literal", filter(func(kf *latchkey.KeyFilter) { kf.Query = "off_sale" }), only("100% off_sale")},
		{"query backslash is literal", filter(func(kf *latchkey.KeyFilter) { kf.Query = `\` }), nil},
		{"query non-ASCII any case", filter(func(kf *latchkey.KeyFilter) { kf.Query = "ärger SCHLÜSSEL" }), only("Ärger Schlüssel")},
		{"query no match", filter(func(kf *latchkey.KeyFilter) { kf.Query = "nothing" }), nil},
		{"combined", filter(func(kf *latchkey.KeyFilter) {
			kf.Status, kf.Type, kf.Environment, kf.Owner, kf.Query = latchkey.StatusActive, "public_api", latchkey.Production, latchkey.OwnerWorkspace, "a"
		}), only("Active Prod", "Just active", "100% off_sale", "100x offXsale", "ZAPIER Integration", "zapier")},
		{"other workspace", filter(func(kf *latchkey.KeyFilter) { kf.WorkspaceID = "ws_01JD0000000000000000000000" }), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 3, 200} {
				got, pages := f.pages(tt.f, limit)
				if !slices.Equal(got, tt.want) {
					t.Fatalf("limit %d: got %q, want %q", limit, got, tt.want)
				}
				if want := max(1, (len(tt.want)+limit-1)/limit); pages != want {
					t.Fatalf("limit %d: got %d pages, want %d", limit, pages, want)
				}
			}
		})
	}

	// The filter and Key.Status agree on every key, whatever the windows.
	t.Run("agrees with Key.Status", func(t *testing.T) {
		for _, windows := range [][]latchkey.Duration{nil, {latchkey.Duration(notice)},
			{latchkey.Duration(notice), latchkey.Duration(7 * latchkey.Day)}, {latchkey.Duration(latchkey.Day)}} {
			keys, _, err := f.s.Keys(f.ctx, latchkey.KeyFilter{WorkspaceID: a.ID, Limit: 200})
			wantCode(t, "Keys", err, "")
			for _, st := range []latchkey.Status{latchkey.StatusActive, latchkey.StatusExpiring, latchkey.StatusExpired, latchkey.StatusRevoked, latchkey.StatusDisabled} {
				listed, _, err := f.s.Keys(f.ctx, latchkey.KeyFilter{WorkspaceID: a.ID, Limit: 200, Status: st, Now: now, Windows: windows})
				wantCode(t, "Keys", err, "")
				for _, k := range keys {
					in := slices.ContainsFunc(listed, func(l *latchkey.Key) bool { return l.ID == k.ID })
					if want := k.Status(now, k.NoticeWindow(windows)) == st; in != want {
						t.Errorf("windows %v: %q is %s by Key.Status, listed under %s: %v", windows, k.Name, k.Status(now, k.NoticeWindow(windows)), st, in)
					}
				}
			}
		}
	})

	t.Run("errors", func(t *testing.T) {
		for _, kf := range []latchkey.KeyFilter{
			filter(func(kf *latchkey.KeyFilter) { kf.Cursor = "!!not base64!!" }),
			filter(func(kf *latchkey.KeyFilter) { kf.Status = "green" }),
		} {
			_, _, err := f.s.Keys(f.ctx, kf)
			wantCode(t, fmt.Sprintf("Keys(%+v)", kf), err, latchkey.EINVALID)
		}
	})

	t.Run("limits", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("Big", "big@example.com")
		for i := range 201 {
			f.key(ws.ID, fmt.Sprintf("key %03d", i))
		}
		tests := []struct {
			limit, want int
		}{{0, 50}, {-1, 50}, {50, 50}, {200, 200}, {201, 200}, {1000, 200}}
		for _, tt := range tests {
			list, next, err := f.s.Keys(f.ctx, latchkey.KeyFilter{WorkspaceID: ws.ID, Limit: tt.limit})
			if err != nil || len(list) != tt.want || next == "" {
				t.Fatalf("Keys(limit %d): got %d keys, next %q, %v, want %d and a cursor", tt.limit, len(list), next, err, tt.want)
			}
		}
		got, pages := f.pages(latchkey.KeyFilter{WorkspaceID: ws.ID}, 1000)
		if len(got) != 201 || pages != 2 || got[0] != "key 200" || got[200] != "key 000" {
			t.Fatalf("all pages: got %d keys in %d pages, want 201 in 2, newest first", len(got), pages)
		}
	})
}

// pages reads every page of kf with the given limit and returns the names
// in order and the number of pages.
func (f *fixture) pages(kf latchkey.KeyFilter, limit int) ([]string, int) {
	f.t.Helper()
	kf.Limit = limit
	var names []string
	for n := 1; n <= 1000; n++ {
		list, next, err := f.s.Keys(f.ctx, kf)
		if err != nil {
			f.t.Fatalf("Keys(page %d): got %v, want nil", n, err)
		}
		for _, k := range list {
			if k.WorkspaceID != kf.WorkspaceID {
				f.t.Fatalf("Keys: got a key of workspace %s, want %s", k.WorkspaceID, kf.WorkspaceID)
			}
			names = append(names, k.Name)
		}
		if next == "" {
			return names, n
		}
		if len(list) == 0 {
			f.t.Fatalf("Keys(page %d): got an empty page with a next cursor", n)
		}
		kf.Cursor = next
	}
	f.t.Fatalf("Keys: got more than 1000 pages")
	return nil, 0
}
