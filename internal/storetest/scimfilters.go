package storetest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// Filter trees as internal/scim's parser resolves them.
func eq(attr string, kind latchkey.ScimAttrKind, v any) latchkey.ScimFilter {
	return latchkey.ScimCompare{Attr: attr, Kind: kind, Op: "eq", Value: v}
}

func cmp(attr string, kind latchkey.ScimAttrKind, op string, v any) latchkey.ScimFilter {
	return latchkey.ScimCompare{Attr: attr, Kind: kind, Op: op, Value: v}
}

func and(l, r latchkey.ScimFilter) latchkey.ScimFilter { return latchkey.ScimLogic{Left: l, Right: r} }
func or(l, r latchkey.ScimFilter) latchkey.ScimFilter {
	return latchkey.ScimLogic{Or: true, Left: l, Right: r}
}

func testScimFilters(t *testing.T, open func(t *testing.T) latchkey.Store) {
	f := newFixture(t, open)
	a, _ := f.workspace("A", "a@example.com")
	b, _ := f.workspace("B", "b@example.com")
	later := now.Add(time.Hour)
	f.provision(a.ID, "Ann@Example.com", func(u *latchkey.ScimUser) {
		u.ExternalID = "EXT-ann"
		u.Emails = []latchkey.ScimEmail{{Value: "ann@work.example", Type: "work", Primary: true}, {Value: "ann@home.example", Type: "home"}}
		u.Doc["displayName"] = "Ann Smith"
	})
	bob := f.provision(a.ID, "bob@example.com", func(u *latchkey.ScimUser) {
		u.Active = false
		u.Emails = []latchkey.ScimEmail{{Value: "Bob@Work.example", Type: "Work"}}
		u.Doc[latchkey.ScimEnterpriseSchema] = map[string]any{"department": "Engineering", "manager": map[string]any{"value": "usr_Boss"}}
	})
	f.provision(a.ID, "cé@example.com", func(u *latchkey.ScimUser) {
		u.Created, u.Updated = later, later
		u.Emails = nil
		u.Doc["title"] = "Ça Va"
		delete(u.Doc, latchkey.ScimEnterpriseSchema)
	})
	f.provision(b.ID, "anne@example.com", func(u *latchkey.ScimUser) { u.Doc["displayName"] = "Ann Smith" })

	emails := func(inner latchkey.ScimFilter) latchkey.ScimFilter {
		return latchkey.ScimValuePath{Attr: "emails", Filter: inner}
	}
	dept := latchkey.ScimEnterpriseSchema + ":department"
	tests := []struct {
		name   string
		filter latchkey.ScimFilter
		want   string // userNames, comma-separated, in creation order
	}{
		{"all", nil, "Ann@Example.com,bob@example.com,cé@example.com"},
		{"userName folded", eq("userName", latchkey.ScimFolded, "ann@example.com"), "Ann@Example.com"},
		{"userName unknown", eq("userName", latchkey.ScimFolded, "zed@example.com"), ""},
		{"userName ne", cmp("userName", latchkey.ScimFolded, "ne", "ann@example.com"), "bob@example.com,cé@example.com"},
		{"userName co", cmp("userName", latchkey.ScimFolded, "co", "b@ex"), "bob@example.com"},
		{"userName sw", cmp("userName", latchkey.ScimFolded, "sw", "cé"), "cé@example.com"},
		{"userName ew", cmp("userName", latchkey.ScimFolded, "ew", "é@example.com"), "cé@example.com"},
		{"userName gt", cmp("userName", latchkey.ScimFolded, "gt", "b"), "bob@example.com,cé@example.com"},
		{"userName le", cmp("userName", latchkey.ScimFolded, "le", "bob@example.com"), "Ann@Example.com,bob@example.com"},
		{"co with a LIKE wildcard", cmp("userName", latchkey.ScimFolded, "co", "%"), ""},
		{"externalId exact", eq("externalId", latchkey.ScimExact, "EXT-ann"), "Ann@Example.com"},
		{"externalId case differs", eq("externalId", latchkey.ScimExact, "ext-ann"), ""},
		{"externalId pr", cmp("externalId", latchkey.ScimExact, "pr", nil), "Ann@Example.com"},
		{"not externalId pr", latchkey.ScimNot{X: cmp("externalId", latchkey.ScimExact, "pr", nil)}, "bob@example.com,cé@example.com"},
		{"active false", eq("active", latchkey.ScimBool, false), "bob@example.com"},
		{"active ne false", cmp("active", latchkey.ScimBool, "ne", false), "Ann@Example.com,cé@example.com"},
		{"id", eq("id", latchkey.ScimExact, bob.UserID), "bob@example.com"},
		{"meta.created gt", cmp("meta.created", latchkey.ScimTime, "gt", now), "cé@example.com"},
		{"meta.lastModified le", cmp("meta.lastModified", latchkey.ScimTime, "le", now), "Ann@Example.com,bob@example.com"},
		{"emails.value", emails(eq("value", latchkey.ScimFolded, "bob@work.example")), "bob@example.com"},
		{"emails[type eq work and value co]", emails(and(eq("type", latchkey.ScimFolded, "work"), cmp("value", latchkey.ScimFolded, "co", "@work."))), "Ann@Example.com,bob@example.com"},
		{"emails[type eq home]", emails(eq("type", latchkey.ScimFolded, "home")), "Ann@Example.com"},
		{"emails[primary eq true]", emails(eq("primary", latchkey.ScimBool, true)), "Ann@Example.com"},
		{"emails pr", emails(nil), "Ann@Example.com,bob@example.com"},
		{"not emails pr", latchkey.ScimNot{X: emails(nil)}, "cé@example.com"},
		{"displayName", eq("displayName", latchkey.ScimFolded, "ann smith"), "Ann@Example.com"},
		{"title non-ASCII folded", eq("title", latchkey.ScimFolded, "ça va"), "cé@example.com"},
		{"name.givenName sw", cmp("name.givenName", latchkey.ScimFolded, "sw", "given bob"), "bob@example.com"},
		{"enterprise department", eq(dept, latchkey.ScimFolded, "engineering"), "bob@example.com"},
		{"enterprise manager", eq(latchkey.ScimEnterpriseSchema+":manager.value", latchkey.ScimExact, "usr_Boss"), "bob@example.com"},
		{"department pr", cmp(dept, latchkey.ScimFolded, "pr", nil), "Ann@Example.com,bob@example.com"},
		{"ne on an absent attribute", cmp("title", latchkey.ScimFolded, "ne", "x"), "Ann@Example.com,bob@example.com,cé@example.com"},
		{"or", or(eq("userName", latchkey.ScimFolded, "bob@example.com"), eq("externalId", latchkey.ScimExact, "EXT-ann")), "Ann@Example.com,bob@example.com"},
		{"and not", and(eq("active", latchkey.ScimBool, true), latchkey.ScimNot{X: eq(dept, latchkey.ScimFolded, "sales")}), "cé@example.com"},
		{"grouping", and(or(eq("active", latchkey.ScimBool, false), eq("title", latchkey.ScimFolded, "ça va")), cmp("userName", latchkey.ScimFolded, "sw", "c")), "cé@example.com"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			list, total, err := f.s.ScimUsers(f.ctx, latchkey.ScimQuery{WorkspaceID: a.ID, Filter: tt.filter, Limit: 100})
			wantCode(t, "ScimUsers", err, "")
			var names []string
			for _, u := range list {
				names = append(names, u.UserName)
			}
			if got := strings.Join(names, ","); got != tt.want || total != len(names) {
				t.Fatalf("got %q (total %d), want %q", got, total, tt.want)
			}
		})
	}

	t.Run("Pages", func(t *testing.T) {
		var seen []string
		for off := 0; off < 4; off++ {
			list, total, err := f.s.ScimUsers(f.ctx, latchkey.ScimQuery{WorkspaceID: a.ID, Offset: off, Limit: 1})
			wantCode(t, "ScimUsers", err, "")
			if total != 3 {
				t.Fatalf("total: got %d, want 3", total)
			}
			for _, u := range list {
				seen = append(seen, u.UserName)
			}
		}
		if len(seen) != 3 || slices.Compact(slices.Sorted(slices.Values(seen))) == nil {
			t.Fatalf("pages: got %v, want each user once", seen)
		}
		list, total, err := f.s.ScimUsers(f.ctx, latchkey.ScimQuery{WorkspaceID: a.ID, Limit: 0})
		if err != nil || total != 3 || len(list) != 0 {
			t.Fatalf("count only: got %d users, total %d, %v", len(list), total, err)
		}
	})

	t.Run("BadTrees", func(t *testing.T) {
		for _, bad := range []latchkey.ScimFilter{
			eq("password", latchkey.ScimFolded, "x"),
			cmp("active", latchkey.ScimBool, "gt", true),
			eq("active", latchkey.ScimBool, "true"),
			cmp("meta.created", latchkey.ScimTime, "co", now),
			latchkey.ScimValuePath{Attr: "phoneNumbers"},
			latchkey.ScimValuePath{Attr: "emails", Filter: eq("display", latchkey.ScimFolded, "x")},
		} {
			_, _, err := f.s.ScimUsers(f.ctx, latchkey.ScimQuery{WorkspaceID: a.ID, Filter: bad, Limit: 10})
			wantCode(t, "ScimUsers(bad tree)", err, latchkey.EINVALID)
		}
	})
}
