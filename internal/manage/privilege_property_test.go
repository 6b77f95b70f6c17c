package manage_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/manage"
)

// addMember makes a new user a member of e's workspace with role r,
// through the store so that the test does not depend on how the service
// invites people. It returns the member's principal.
func (e *env) addMember(t *testing.T, email string, r latchkey.Role) latchkey.Principal {
	t.Helper()
	ctx := context.Background()
	now := e.svc.Now()
	u := &latchkey.User{ID: id.NewGenerator(e.clock.Now, nil).New(id.User), Email: email, CreatedAt: now}
	if err := e.store.CreateUser(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	ev := latchkey.Event{ID: id.NewGenerator(e.clock.Now, nil).New(id.Event), WorkspaceID: e.ws, At: now,
		Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: latchkey.EventMemberAdded, Target: u.ID}
	if err := e.store.AddMember(ctx, &latchkey.Member{WorkspaceID: e.ws, UserID: u.ID, Role: r, Active: true, CreatedAt: now}, ev); err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Principal(ctx, manage.Caller{User: u, IP: "192.0.2.9"}, e.ws)
	if err != nil || p.Role != r {
		t.Fatalf("Principal(%s): got %q, %v, want role %s", email, p.Role, err, r)
	}
	return p
}

// setRole changes a member's role through the store (the test's own hand,
// not a principal under test).
func (e *env) setRole(t *testing.T, userID string, r latchkey.Role) {
	t.Helper()
	_, err := e.store.UpdateMember(context.Background(), e.ws, userID, func(m *latchkey.Member) (*latchkey.Event, error) {
		m.Role = r
		ev := latchkey.Event{ID: id.NewGenerator(e.clock.Now, nil).New(id.Event), WorkspaceID: e.ws, At: e.svc.Now(),
			Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: latchkey.EventMemberUpdated, Target: userID}
		return &ev, nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// grantOf is what a role holds of a rule, read from the table's fields
// rather than through the code under test.
func grantOf(r latchkey.Rule, role latchkey.Role) latchkey.Grant {
	switch role {
	case latchkey.RoleOwner:
		return r.Owner
	case latchkey.RoleSuperAdmin:
		return r.SuperAdmin
	case latchkey.RoleAdmin:
		return r.Admin
	case latchkey.RoleMember:
		return r.Member
	}
	return latchkey.No
}

// callerGrant is what p itself may do of a: its role's grant, and for a
// management key only where the key holds the action's scope.
func callerGrant(p latchkey.Principal, a latchkey.Action) latchkey.Grant {
	rule, _ := latchkey.RuleFor(a)
	if p.Kind == latchkey.PrincipalKey && (rule.Scope == "" || !slices.Contains(p.Scopes, rule.Scope)) {
		return latchkey.No
	}
	return grantOf(rule, p.Role)
}

var rank = map[latchkey.Role]int{latchkey.RoleOwner: 4, latchkey.RoleSuperAdmin: 3, latchkey.RoleAdmin: 2, latchkey.RoleMember: 1}

// oracleHolds is the property's independent statement of "p holds all
// that k's secret opens", in terms of capabilities: every action the key
// could take (at its creator's role, through its scopes) p can take too.
func oracleHolds(p latchkey.Principal, s latchkey.Settings, k *latchkey.Key, creatorRole latchkey.Role) string {
	create := callerGrant(p, latchkey.ActKeyCreate)
	switch k.Type {
	case latchkey.TypeManagement:
		if create != latchkey.All {
			return "caller may not create workspace keys"
		}
		if rank[creatorRole] > rank[p.Role] {
			return fmt.Sprintf("key acts as %s, caller is %s", creatorRole, p.Role)
		}
		for _, a := range latchkey.Actions() {
			rule, _ := latchkey.RuleFor(a)
			if rule.Scope == "" || !slices.Contains(k.Scopes, rule.Scope) {
				continue
			}
			if g := grantOf(rule, creatorRole); g > callerGrant(p, a) {
				return fmt.Sprintf("key may %s (%d), caller only %d", a, g, callerGrant(p, a))
			}
		}
	case latchkey.TypeSCIM:
		if p.Kind != latchkey.PrincipalUser || callerGrant(p, latchkey.ActMembersWrite) != latchkey.All || callerGrant(p, latchkey.ActOwnersWrite) != latchkey.All {
			return "a SCIM key deprovisions owners; the caller may not"
		}
		if s.ScimKeyIssuance != latchkey.IssuanceAdmins {
			return "SCIM keys are issued by operators here"
		}
	default:
		switch {
		case create == latchkey.All:
		case create == latchkey.Own && k.Owner == p.UserID && (p.Role != latchkey.RoleMember || s.MembersMayCreatePersonalKeys):
		default:
			return "caller may not create this key"
		}
	}
	return ""
}

// snapshot is what a refused operation must leave as it was.
func snapshot(k *latchkey.Key) string {
	return fmt.Sprintf("%v|%v|%v|%x|%v|%v|%v", k.Scopes, k.Settings, k.RateLimit, k.Hash, k.PreviousHash, k.PreviousExpiresAt, k.RevokedAt)
}

func propertySeed(t *testing.T) uint64 {
	if v := os.Getenv("LATCHKEY_PROPERTY_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("LATCHKEY_PROPERTY_SEED=%q: %v", v, err)
		}
		return n
	}
	return 20260301
}

// TestPrivilegeProperty: whatever principal (each role, management keys of
// random scopes made by members of random roles, creators promoted and
// demoted meanwhile) does whatever key operation (create, patch scopes,
// settings or rate limit, reset with or without grace), a key it makes,
// widens or obtains a secret of is within its own power, and a refused
// operation changes nothing. Seeded: LATCHKEY_PROPERTY_SEED=<n> replays a run.
func TestPrivilegeProperty(t *testing.T) {
	seed := propertySeed(t)
	t.Logf("seed %d (LATCHKEY_PROPERTY_SEED=%d replays it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	ctx := context.Background()
	e := newEnv(t)
	users := []latchkey.Principal{e.owner}
	for i, r := range []latchkey.Role{latchkey.RoleOwner, latchkey.RoleSuperAdmin, latchkey.RoleSuperAdmin, latchkey.RoleAdmin, latchkey.RoleAdmin, latchkey.RoleMember, latchkey.RoleMember} {
		users = append(users, e.addMember(t, fmt.Sprintf("p%d@acme.test", i), r))
	}
	byID := map[string]*latchkey.User{}
	for _, p := range users {
		byID[p.UserID] = &latchkey.User{ID: p.UserID, Email: p.Email}
	}
	var mgmtKeys []string // ids of management keys, principals in their own right
	var keys []string     // every key made
	catalog := e.svc.Catalog()
	types := []string{latchkey.TypePublicAPI, latchkey.TypeOnPremise, latchkey.TypeManagement, latchkey.TypeSCIM}

	// principal resolves a caller now, so a creator's demotion shows at once.
	principal := func() (latchkey.Principal, string) {
		if len(mgmtKeys) > 0 && rng.IntN(3) == 0 {
			k, err := e.store.Key(ctx, e.ws, mgmtKeys[rng.IntN(len(mgmtKeys))])
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.svc.Principal(ctx, manage.Caller{Key: k}, e.ws)
			if err != nil {
				t.Fatal(err)
			}
			return p, fmt.Sprintf("key %s %v of a %s", k.ID, k.Scopes, p.Role)
		}
		u := users[rng.IntN(len(users))]
		p, err := e.svc.Principal(ctx, manage.Caller{User: byID[u.UserID]}, e.ws)
		if err != nil {
			t.Fatal(err)
		}
		return p, fmt.Sprintf("user %s (%s)", p.Email, p.Role)
	}
	someScopes := func(typ string) []string {
		kt, _ := catalog.Type(typ)
		var out []string
		for _, s := range kt.Scopes {
			if rng.IntN(3) == 0 {
				out = append(out, s.Name)
			}
		}
		return out
	}
	someSettings := func(typ string) map[string]any {
		if typ != latchkey.TypeOnPremise || rng.IntN(2) == 0 {
			return nil
		}
		return map[string]any{"retrieve_signatures": rng.IntN(2) == 0, "send_directory_data": rng.IntN(2) == 0}
	}
	someLimit := func() *latchkey.RateLimit {
		if rng.IntN(3) == 0 {
			return nil
		}
		return &latchkey.RateLimit{Limit: 1 + rng.IntN(100), Period: latchkey.Duration(time.Duration(1+rng.IntN(3600)) * time.Second)}
	}
	settingsNow := func() latchkey.Settings {
		w, err := e.store.Workspace(ctx, e.ws)
		if err != nil {
			t.Fatal(err)
		}
		return w.Settings
	}
	roleOf := func(userID string) latchkey.Role {
		m, err := e.store.Member(ctx, e.ws, userID)
		if err != nil || !m.Active {
			return ""
		}
		return m.Role
	}

	var made, widened, obtained, refused int
	for step := range 400 {
		switch rng.IntN(12) {
		case 0: // the workspace's policies change
			on, iss := rng.IntN(2) == 0, []string{latchkey.IssuanceAdmins, latchkey.IssuanceOperator}[rng.IntN(2)]
			if _, err := e.svc.UpdateSettings(ctx, e.owner, e.ws, manage.SettingsPatch{MembersMayCreatePersonalKeys: &on, ScimKeyIssuance: &iss}); err != nil {
				t.Fatal(err)
			}
			continue
		case 1: // a member other than the first owner is promoted or demoted
			u := users[1+rng.IntN(len(users)-1)]
			e.setRole(t, u.UserID, latchkey.Roles[rng.IntN(len(latchkey.Roles))])
			continue
		}
		p, who := principal()
		s := settingsNow()
		switch op := rng.IntN(3); {
		case op == 0 || len(keys) == 0:
			typ := types[rng.IntN(len(types))]
			in := manage.CreateKey{Name: fmt.Sprintf("k%d", step), Type: typ, Owner: []string{"", "me", "workspace"}[rng.IntN(3)],
				Scopes: someScopes(typ), Settings: someSettings(typ), RateLimit: someLimit()}
			if typ == latchkey.TypeManagement {
				in.Scopes = nil
				for _, sc := range latchkey.ManagementScopes {
					if rng.IntN(3) == 0 {
						in.Scopes = append(in.Scopes, sc)
					}
				}
			}
			k, _, err := e.svc.CreateKey(ctx, p, e.ws, in)
			if err != nil {
				refused++
				continue
			}
			made++
			keys = append(keys, k.ID)
			if k.Type == latchkey.TypeManagement {
				mgmtKeys = append(mgmtKeys, k.ID)
			}
			if k.CreatedBy != p.UserID {
				t.Fatalf("step %d (seed %d): %s made %s with created_by %s", step, seed, who, k.ID, k.CreatedBy)
			}
			if why := oracleHolds(p, s, k, p.Role); why != "" {
				t.Fatalf("step %d (seed %d): %s made %s %s %v: %s", step, seed, who, k.Type, k.Owner, k.Scopes, why)
			}
		case op == 1:
			keyID := keys[rng.IntN(len(keys))]
			before, err := e.store.Key(ctx, e.ws, keyID)
			if err != nil {
				t.Fatal(err)
			}
			creator := roleOf(before.CreatedBy)
			var in manage.UpdateKey
			if rng.IntN(2) == 0 {
				sc := someScopes(before.Type)
				if before.Type == latchkey.TypeManagement {
					sc = nil
					for _, s := range latchkey.ManagementScopes {
						if rng.IntN(2) == 0 {
							sc = append(sc, s)
						}
					}
				}
				in.Scopes = &sc
			}
			in.Settings = someSettings(before.Type)
			switch rng.IntN(3) {
			case 0:
				in.RateLimit = someLimit()
			case 1:
				in.ClearRateLimit = true
			}
			_, err = e.svc.UpdateKey(ctx, p, e.ws, keyID, in)
			stored, lerr := e.store.Key(ctx, e.ws, keyID)
			if lerr != nil {
				t.Fatal(lerr)
			}
			if err != nil {
				refused++
				if snapshot(stored) != snapshot(before) {
					t.Fatalf("step %d (seed %d): %s's refused patch (%v) changed %s: %s -> %s", step, seed, who, err, keyID, snapshot(before), snapshot(stored))
				}
				continue
			}
			if narrower(stored, before) {
				continue
			}
			widened++
			if why := oracleHolds(p, s, stored, creator); why != "" {
				t.Fatalf("step %d (seed %d): %s widened %s %v -> %v, %v -> %v: %s", step, seed, who, keyID, before.Scopes, stored.Scopes, before.RateLimit, stored.RateLimit, why)
			}
		default:
			keyID := keys[rng.IntN(len(keys))]
			before, err := e.store.Key(ctx, e.ws, keyID)
			if err != nil {
				t.Fatal(err)
			}
			creator := roleOf(before.CreatedBy)
			var grace time.Duration
			if rng.IntN(2) == 0 {
				grace = time.Duration(1+rng.IntN(7*24)) * time.Hour
			}
			_, secret, err := e.svc.ResetKey(ctx, p, e.ws, keyID, grace)
			stored, lerr := e.store.Key(ctx, e.ws, keyID)
			if lerr != nil {
				t.Fatal(lerr)
			}
			if err != nil {
				refused++
				if snapshot(stored) != snapshot(before) {
					t.Fatalf("step %d (seed %d): %s's refused reset (%v) changed %s", step, seed, who, err, keyID)
				}
				continue
			}
			if secret == "" {
				t.Fatalf("step %d: a reset without a secret", step)
			}
			obtained++
			// Only the owner of a personal key may replace its secret
			// without holding it, and then only with no second secret.
			if grace == 0 && before.Owner == p.UserID {
				continue
			}
			if why := oracleHolds(p, s, stored, creator); why != "" {
				t.Fatalf("step %d (seed %d): %s obtained a secret of %s %s %v (grace %s): %s", step, seed, who, before.Type, before.Owner, before.Scopes, grace, why)
			}
		}
	}
	t.Logf("made %d, widened %d, obtained %d, refused %d", made, widened, obtained, refused)
	if made < 20 || refused < 20 || obtained < 10 || widened < 5 {
		t.Errorf("the run exercised too little: made %d, widened %d, obtained %d, refused %d", made, widened, obtained, refused)
	}
}

// narrower reports, independently of the code under test, whether a's
// secret opens nothing b's did not: scopes a subset, no flag switched on,
// a rate limit at least as tight.
func narrower(a, b *latchkey.Key) bool {
	for _, s := range a.Scopes {
		if !slices.Contains(b.Scopes, s) {
			return false
		}
	}
	for k, v := range a.Settings {
		if on, _ := v.(bool); on && b.Settings[k] != true {
			return false
		}
	}
	if !maps.EqualFunc(a.Settings, b.Settings, func(x, y any) bool { _, isBool := x.(bool); return isBool || x == y }) {
		return false
	}
	switch {
	case a.RateLimit == nil:
		return b.RateLimit == nil
	case b.RateLimit == nil:
		return true
	}
	return a.RateLimit.Limit <= b.RateLimit.Limit && a.RateLimit.Period >= b.RateLimit.Period
}
