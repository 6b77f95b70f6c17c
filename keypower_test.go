package latchkey

import (
	"fmt"
	"testing"
	"time"
)

// TestAuthorizeKey runs the one key-power rule over the attacks it exists
// for, and over what must stay allowed.
func TestAuthorizeKey(t *testing.T) {
	const ws = "ws_a"
	cat := DefaultCatalog()
	typ := func(n string) *KeyType { kt, _ := cat.Type(n); return kt }
	user := func(r Role, id string) Principal {
		return Principal{Kind: PrincipalUser, UserID: id, WorkspaceID: ws, Role: r}
	}
	mkey := func(r Role, scopes ...string) Principal {
		return Principal{Kind: PrincipalKey, UserID: "usr_owner", KeyID: "key_m", WorkspaceID: ws, Role: r, Scopes: scopes}
	}
	key := func(tp, owner string, scopes ...string) *Key {
		return &Key{WorkspaceID: ws, Type: tp, Owner: owner, Scopes: scopes, CreatedBy: "usr_owner"}
	}
	with := func(k *Key, fn func(*Key)) *Key { c := *k; fn(&c); return &c }
	limit := func(n int, d time.Duration) *RateLimit { return &RateLimit{Limit: n, Period: Duration(d)} }
	open, closed := DefaultSettings(), DefaultSettings()
	closed.MembersMayCreatePersonalKeys = false
	operatorIssued := DefaultSettings()
	operatorIssued.ScimKeyIssuance = IssuanceOperator

	ownersKey := key(TypeManagement, OwnerWorkspace, "keys:read")
	narrowed := with(key(TypePublicAPI, "usr_meg", "items:read"), func(k *Key) { k.RateLimit = limit(10, time.Minute) })
	cases := []struct {
		name string
		p    Principal
		s    Settings
		c    KeyChange
		want Code
	}{
		// Item 3: an admin widens an owner's management key, or resets it.
		{"admin widens owner's key", user(RoleAdmin, "usr_ada"), open, KeyChange{Op: OpEdit, Type: typ(TypeManagement), Before: ownersKey,
			After: with(ownersKey, func(k *Key) { k.Scopes = []string{"members:write"} }), CreatorRole: RoleOwner}, EFORBIDDEN},
		{"admin adds a scope she holds to owner's key", user(RoleAdmin, "usr_ada"), open, KeyChange{Op: OpEdit, Type: typ(TypeManagement), Before: ownersKey,
			After: with(ownersKey, func(k *Key) { k.Scopes = []string{"keys:read", "events:read"} }), CreatorRole: RoleOwner}, EFORBIDDEN},
		{"admin resets owner's key", user(RoleAdmin, "usr_ada"), open, KeyChange{Op: OpObtain, Type: typ(TypeManagement), Before: ownersKey, CreatorRole: RoleOwner}, EFORBIDDEN},
		{"admin narrows owner's key", user(RoleAdmin, "usr_ada"), open, KeyChange{Op: OpEdit, Type: typ(TypeManagement),
			Before: with(ownersKey, func(k *Key) { k.Scopes = []string{"keys:read", "events:read"} }), After: ownersKey, CreatorRole: RoleOwner}, ""},
		{"super admin resets owner's key", user(RoleSuperAdmin, "usr_sam"), open, KeyChange{Op: OpObtain, Type: typ(TypeManagement), Before: ownersKey, CreatorRole: RoleOwner}, EFORBIDDEN},
		{"owner resets another owner's key", user(RoleOwner, "usr_o2"), open, KeyChange{Op: OpObtain, Type: typ(TypeManagement), Before: ownersKey, CreatorRole: RoleOwner}, ""},
		{"admin resets a demoted creator's key", user(RoleAdmin, "usr_ada"), open, KeyChange{Op: OpObtain, Type: typ(TypeManagement), Before: ownersKey, CreatorRole: RoleAdmin}, ""},
		// Item 4: a management key makes a wider one.
		{"key makes a key with a scope it lacks", mkey(RoleOwner, "keys:read", "keys:write"), open,
			KeyChange{Op: OpMake, Type: typ(TypeManagement), After: key(TypeManagement, OwnerWorkspace, "members:write")}, EFORBIDDEN},
		{"key makes a narrower key", mkey(RoleOwner, "keys:read", "keys:write"), open,
			KeyChange{Op: OpMake, Type: typ(TypeManagement), After: key(TypeManagement, OwnerWorkspace, "keys:read")}, ""},
		{"key of an admin makes members:write", mkey(RoleAdmin, "keys:write", "members:write"), open,
			KeyChange{Op: OpMake, Type: typ(TypeManagement), After: key(TypeManagement, OwnerWorkspace, "members:write")}, EFORBIDDEN},
		{"admin makes members:write", user(RoleAdmin, "usr_ada"), open,
			KeyChange{Op: OpMake, Type: typ(TypeManagement), After: key(TypeManagement, OwnerWorkspace, "members:write")}, EFORBIDDEN},
		{"key makes a product key", mkey(RoleAdmin, "keys:write"), open,
			KeyChange{Op: OpMake, Type: typ(TypePublicAPI), After: key(TypePublicAPI, OwnerWorkspace, "items:read")}, ""},
		// SCIM keys deprovision owners: owners' sessions only.
		{"owner makes a scim key", user(RoleOwner, "usr_owner"), open, KeyChange{Op: OpMake, Type: typ(TypeSCIM), After: key(TypeSCIM, OwnerWorkspace)}, ""},
		{"super admin makes a scim key", user(RoleSuperAdmin, "usr_sam"), open, KeyChange{Op: OpMake, Type: typ(TypeSCIM), After: key(TypeSCIM, OwnerWorkspace)}, EFORBIDDEN},
		{"admin resets a scim key", user(RoleAdmin, "usr_ada"), open, KeyChange{Op: OpObtain, Type: typ(TypeSCIM), Before: key(TypeSCIM, OwnerWorkspace)}, EFORBIDDEN},
		{"owner's key makes a scim key", mkey(RoleOwner, ManagementScopes...), open, KeyChange{Op: OpMake, Type: typ(TypeSCIM), After: key(TypeSCIM, OwnerWorkspace)}, EFORBIDDEN},
		{"owner makes a scim key where operators issue", user(RoleOwner, "usr_owner"), operatorIssued, KeyChange{Op: OpMake, Type: typ(TypeSCIM), After: key(TypeSCIM, OwnerWorkspace)}, EFORBIDDEN},
		// Item 18: narrowing holds where members may not create keys.
		{"member re-widens scopes", user(RoleMember, "usr_meg"), closed, KeyChange{Op: OpEdit, Type: typ(TypePublicAPI), Before: narrowed,
			After: with(narrowed, func(k *Key) { k.Scopes = []string{"items:read", "secrets:read"} })}, EFORBIDDEN},
		{"member removes the rate limit", user(RoleMember, "usr_meg"), closed, KeyChange{Op: OpEdit, Type: typ(TypePublicAPI), Before: narrowed,
			After: with(narrowed, func(k *Key) { k.RateLimit = nil })}, EFORBIDDEN},
		{"member loosens the rate limit", user(RoleMember, "usr_meg"), closed, KeyChange{Op: OpEdit, Type: typ(TypePublicAPI), Before: narrowed,
			After: with(narrowed, func(k *Key) { k.RateLimit = limit(10, time.Second) })}, EFORBIDDEN},
		{"member tightens the rate limit", user(RoleMember, "usr_meg"), closed, KeyChange{Op: OpEdit, Type: typ(TypePublicAPI), Before: narrowed,
			After: with(narrowed, func(k *Key) { k.RateLimit = limit(5, time.Hour) })}, ""},
		{"member narrows scopes", user(RoleMember, "usr_meg"), closed, KeyChange{Op: OpEdit, Type: typ(TypePublicAPI), Before: narrowed,
			After: with(narrowed, func(k *Key) { k.Scopes = nil })}, ""},
		{"member resets with grace", user(RoleMember, "usr_meg"), closed, KeyChange{Op: OpObtain, Type: typ(TypePublicAPI), Before: narrowed, Grace: 7 * Day}, EFORBIDDEN},
		{"member resets without grace", user(RoleMember, "usr_meg"), closed, KeyChange{Op: OpObtain, Type: typ(TypePublicAPI), Before: narrowed}, ""},
		{"member resets with grace where allowed", user(RoleMember, "usr_meg"), open, KeyChange{Op: OpObtain, Type: typ(TypePublicAPI), Before: narrowed, Grace: Day}, ""},
		{"member widens where allowed", user(RoleMember, "usr_meg"), open, KeyChange{Op: OpEdit, Type: typ(TypePublicAPI), Before: narrowed,
			After: with(narrowed, func(k *Key) { k.RateLimit = nil })}, ""},
		{"member resets another's key", user(RoleMember, "usr_mo"), open, KeyChange{Op: OpObtain, Type: typ(TypePublicAPI), Before: narrowed}, ENOTFOUND},
		{"admin widens a member's key", user(RoleAdmin, "usr_ada"), closed, KeyChange{Op: OpEdit, Type: typ(TypePublicAPI), Before: narrowed,
			After: with(narrowed, func(k *Key) { k.RateLimit = nil })}, ""},
		{"settings switched on", user(RoleMember, "usr_meg"), closed, KeyChange{Op: OpEdit, Type: typ(TypePublicAPI), Before: narrowed,
			After: with(narrowed, func(k *Key) { k.Settings = map[string]any{"x": true} })}, EFORBIDDEN},
	}
	for _, c := range cases {
		if got := ErrorCode(AuthorizeKey(c.p, c.s, c.c)); got != c.want {
			t.Errorf("%s: got %q (%v), want %q", c.name, got, AuthorizeKey(c.p, c.s, c.c), c.want)
		}
	}
}

func TestCatalogVerifiable(t *testing.T) {
	c := DefaultCatalog()
	for name, want := range map[string]bool{TypePublicAPI: true, TypeOnPremise: true, TypeSCIM: false, TypeManagement: false, "unknown": false} {
		if got := c.Verifiable(name); got != want {
			t.Errorf("Verifiable(%s): got %v, want %v", name, got, want)
		}
	}
	base := `{"types":[{"name":"scim","label":"S"%s},{"name":"management","label":"M"},{"name":"partner","label":"P"%s}]}`
	c, err := ParseCatalog([]byte(fmt.Sprintf(base, "", "")))
	if err != nil || !c.Verifiable("partner") {
		t.Errorf("a custom type without the field: got %v, %v, want verifiable", err, c)
	}
	if c, err := ParseCatalog([]byte(fmt.Sprintf(base, "", `,"verifiable":false`))); err != nil || c.Verifiable("partner") {
		t.Errorf("a custom type marked not verifiable: got %v", err)
	}
	if _, err := ParseCatalog([]byte(fmt.Sprintf(base, `,"verifiable":true`, ""))); err == nil {
		t.Error("a catalog making scim verifiable: got nil, want an error")
	}
}

func TestBudgetsWithin(t *testing.T) {
	daily := func(n int64) *Refill { return &Refill{Interval: RefillDaily, Amount: n} }
	monthly := func(n int64) *Refill { return &Refill{Interval: RefillMonthly, Amount: n} }
	c := func(n int64, r *Refill) *Credits { return &Credits{Remaining: n, Refill: r} }
	lim := func(name string, n int64, d time.Duration) NamedLimit {
		return NamedLimit{Name: name, Limit: n, Duration: Duration(d)}
	}
	tests := []struct {
		name       string
		after, was KeyPower
		within     bool
	}{
		{"credits added", KeyPower{Credits: c(10, nil)}, KeyPower{}, true},
		{"credits removed", KeyPower{}, KeyPower{Credits: c(10, nil)}, false},
		{"credits lowered", KeyPower{Credits: c(5, nil)}, KeyPower{Credits: c(10, nil)}, true},
		{"credits raised", KeyPower{Credits: c(11, nil)}, KeyPower{Credits: c(10, nil)}, false},
		{"refill added", KeyPower{Credits: c(10, daily(1))}, KeyPower{Credits: c(10, nil)}, false},
		{"refill removed", KeyPower{Credits: c(10, nil)}, KeyPower{Credits: c(10, daily(1))}, true},
		{"refill lowered", KeyPower{Credits: c(10, daily(5))}, KeyPower{Credits: c(10, daily(6))}, true},
		{"monthly to a daily that gives more in a long month", KeyPower{Credits: c(10, daily(110))}, KeyPower{Credits: c(10, monthly(3100))}, false},
		{"daily to a monthly that gives less in a short month", KeyPower{Credits: c(10, monthly(2800))}, KeyPower{Credits: c(10, daily(100))}, true},
		{"limit added", KeyPower{RateLimits: []NamedLimit{lim("a", 5, time.Minute)}}, KeyPower{}, true},
		{"limit removed", KeyPower{}, KeyPower{RateLimits: []NamedLimit{lim("a", 5, time.Minute)}}, false},
		{"limit raised", KeyPower{RateLimits: []NamedLimit{lim("a", 6, time.Minute)}}, KeyPower{RateLimits: []NamedLimit{lim("a", 5, time.Minute)}}, false},
		{"window shortened", KeyPower{RateLimits: []NamedLimit{lim("a", 5, time.Second)}}, KeyPower{RateLimits: []NamedLimit{lim("a", 5, time.Minute)}}, false},
		{"limit renamed", KeyPower{RateLimits: []NamedLimit{lim("b", 5, time.Minute)}}, KeyPower{RateLimits: []NamedLimit{lim("a", 5, time.Minute)}}, false},
		{"limit tightened", KeyPower{RateLimits: []NamedLimit{lim("a", 4, time.Hour)}}, KeyPower{RateLimits: []NamedLimit{lim("a", 5, time.Minute)}}, true},
	}
	for _, tt := range tests {
		if got := tt.after.Within(tt.was); got != tt.within {
			t.Errorf("%s: Within = %v, want %v", tt.name, got, tt.within)
		}
	}
}
